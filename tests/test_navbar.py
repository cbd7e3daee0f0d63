"""The navigation bar, kept rendered (web.navbar): each reader still gets their own profile link,
CSRF token and way back from the language menu, and their own language."""
from urllib.parse import parse_qs, urlsplit

from conftest import make_post, make_user
from helpers import page_of, session_with_token
from htmltree import parse


def navbar(page: str):
    [nav] = parse(page).find_all("nav")
    return nav


def tokens(nav) -> set[str]:
    return {field["value"] for field in nav.find_all("input", name="csrf_token")}


def links(nav) -> dict[str, str]:
    return {link.text.strip(): link["href"] for link in nav.find_all("a")}


def buttons(nav) -> list[str]:
    return [button.text.strip() for button in nav.find_all("button")]


def language_return(nav) -> str:
    """Where the language menu returns to (the bar has it twice: in a row, and in the phone's menu)."""
    [action] = {parse_qs(urlsplit(form["action"]).query)["next"][0]
                for form in nav.find_all("form") if form.has_class("language-menu")}
    return action


async def test_each_reader_gets_their_own_profile_link_and_token(app, db):
    await make_user(db, "alice")
    await make_user(db, "bob")
    clients = {"alice": await session_with_token(app, "token-of-alice", "alice"),
               "bob": await session_with_token(app, "token-of-bob", "bob"),
               None: await session_with_token(app, "token-of-a-visitor")}
    for _ in range(2):  # the first round renders the bar, the second serves it kept
        for nickname, client in clients.items():
            nav = navbar(await page_of(client, "/explore"))
            if nickname:
                assert links(nav)["Profile"] == f"/user/{nickname}" and "Log in" not in links(nav)
                assert "Log out" in buttons(nav)
            else:
                assert "Profile" not in links(nav) and "Log out" not in buttons(nav)
                assert links(nav)["Log in"] == "/auth/login" and links(nav)["Register"] == "/auth/register"
            assert tokens(nav) == {f"token-of-{nickname or 'a-visitor'}"}


async def test_the_language_menu_leads_back_to_the_page_it_is_on(app, db):
    await make_user(db, "alice")
    client = await session_with_token(app, "token", "alice")
    for path in ("/explore", "/user/alice", "/explore"):
        assert language_return(navbar(await page_of(client, path))) == path


async def test_readers_in_another_language_get_the_bar_in_theirs(app, db, client):
    english = navbar(await page_of(client, "/auth/login"))
    response = await client.get("/auth/login", headers={"Accept-Language": "es"})
    spanish = navbar(await response.get_data(as_text=True))
    assert "Explore" in links(english) and "Explorar" in links(spanish)
    assert spanish.find("button", aria_current="true")["value"] == "es"
    assert english.find("button", aria_current="true")["value"] == "en"
    assert "Explore" in links(navbar(await page_of(client, "/auth/login")))


async def test_in_debug_nothing_is_kept_for_templates_change(app, db, client):
    alice = await make_user(db, "alice")
    await make_post(db, alice, "hello")
    app.debug = True
    try:
        assert "hello" in await page_of(client, "/explore")
        assert not any(app.extensions.get("kept", {}).values()) and not app.extensions.get("post_cards")
        assert "static_urls" not in app.extensions
    finally:
        app.debug = False
    await page_of(client, "/explore")
    assert app.extensions["kept"]["_navbar.html"] and app.extensions["post_cards"] and app.extensions["static_urls"]
