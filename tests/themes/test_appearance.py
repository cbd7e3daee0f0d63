"""Light, dark or automatic: written into every page by the server (no script, no flash), the
account's choice wherever they log in, a cookie for visitors."""
import re

import pytest
from sqlalchemy import select

from conftest import post, text_of
from helpers import CSRF_MESSAGE, flashes
from helpers import alice_client  # noqa: F401 (the fixture)
from microblog.accounts import LocalUser
from microblog.themes import auto_css


def theme_of(page: str) -> str:
    return re.search(r'<html lang="\w+" data-bs-theme="(\w+)">', page).group(1)


def checked(page: str) -> list[str]:
    return re.findall(r'name="theme" id="theme-\w+" value="(\w+)" checked', page)


async def test_a_new_visitor_gets_the_browsers_colours(client):
    page = await text_of(await client.get("/auth/login"))
    assert theme_of(page) == "auto"  # the dark rules apply under prefers-color-scheme: dark
    assert "/static/bootstrap-auto-dark.css" in page
    assert checked(await text_of(await client.get("/appearance"))) == ["auto"]


async def test_a_visitor_chooses_dark_kept_in_a_cookie(client):
    response = await post(client, "/appearance", {"theme": "dark"})
    assert response.status_code == 303 and response.headers["Location"] == "/appearance"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("theme=dark;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = await text_of(await client.get("/appearance"))
    assert flashes(page) == ["Appearance saved."] and theme_of(page) == "dark" and checked(page) == ["dark"]
    assert theme_of(await text_of(await client.get("/explore"))) == "dark"
    await post(client, "/appearance", {"theme": "light"})
    assert theme_of(await text_of(await client.get("/explore"))) == "light"


async def test_an_accounts_choice_follows_them_to_another_browser(app, db, alice_client, alice):
    await post(alice_client, "/appearance", {"theme": "light"})
    assert await db.scalar(select(LocalUser.theme).where(LocalUser.user_id == alice.id)) == "light"
    other_browser = app.test_client()  # no cookie: the account decides once logged in
    assert theme_of(await text_of(await other_browser.get("/explore"))) == "auto"
    await post(other_browser, "/auth/login", {"nickname": "alice", "password": "correct horse"})
    page = await text_of(await other_browser.get("/index"))
    assert theme_of(page) == "light"
    assert "Saved on your account" in await text_of(await other_browser.get("/appearance"))


@pytest.mark.parametrize("theme", ["", "blue", "dark'><script>", "x" * 5000])
async def test_an_unknown_choice_is_refused_and_changes_nothing(client, theme):
    response = await post(client, "/appearance", {"theme": theme})
    assert response.status_code == 303 and "theme=" not in response.headers.get("Set-Cookie", "")
    page = await text_of(await client.get(response.headers["Location"]))
    assert flashes(page) == ["Choose light, dark or automatic."] and theme_of(page) == "auto"


async def test_an_unknown_cookie_is_automatic(client):
    client.set_cookie("localhost", "theme", "neon")
    assert theme_of(await text_of(await client.get("/explore"))) == "auto"


async def test_the_choice_is_protected_by_csrf(client):
    response = await client.post("/appearance", form={"theme": "dark"})
    assert response.status_code == 400 and CSRF_MESSAGE in await text_of(response)
    assert "theme=" not in response.headers.get("Set-Cookie", "")


async def test_the_navigation_links_to_appearance_on_every_page(app, alice_client):
    visitor = app.test_client()
    for page in (await text_of(await visitor.get("/auth/login")), await text_of(await alice_client.get("/index"))):
        assert page.count('href="/appearance"') == 2  # the wide menu and the phone's


def test_the_automatic_dark_css_is_made_from_the_vendored_bootstrap():
    made = auto_css.auto_dark((auto_css.STATIC / auto_css.BOOTSTRAP).read_text())
    assert auto_css.TARGET.read_text() == made, "run: venv/bin/python -m microblog.themes.auto_css"
    assert made.count("@media (prefers-color-scheme: dark)") == 1
    assert "[data-bs-theme=auto]{color-scheme:dark;--bs-body-bg:#212529" in made.replace("--bs-body-color:#dee2e6;--bs-body-color-rgb:222,226,230;", "")
    assert "[data-bs-theme=dark]" not in made and ".navbar[data-bs-theme" not in made
