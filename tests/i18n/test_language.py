"""The reader's language: the account's choice, else the visitor's cookie, else Accept-Language
by primary subtag, else English; the language menu sets the first two."""
import pytest
from sqlalchemy import select

from conftest import make_post, post, text_of
from helpers import HTMX, CSRF_MESSAGE, flashes, title, visible
from helpers import alice_client  # noqa: F401 (the fixture)
from microblog.accounts import LocalUser

ENGLISH, SPANISH = "Sign In - microblog", "Iniciar sesión - microblog"


async def login_page(client, accept_language: str | None = None) -> str:
    headers = {"Accept-Language": accept_language} if accept_language is not None else {}
    return await text_of(await client.get("/auth/login", headers=headers))


@pytest.mark.parametrize("accept_language, lang", [
    ("es", "es"), ("es-MX", "es"), ("es-419,en;q=0.5", "es"), ("es-ES,es;q=0.9", "es"),
    ("en-GB", "en"), ("en-GB,en;q=0.9,es;q=0.8", "en"), ("de-CH,de;q=0.9", "en"),
    ("de-CH,de;q=0.9,es;q=0.5", "es"), ("xx-invalid", "en"), ("", "en"), (None, "en"),
    ("fr,es;q=0", "en"),  # q=0: "not Spanish"
])
async def test_the_browser_language_is_matched_by_its_primary_subtag(client, accept_language, lang):
    page = await login_page(client, accept_language)
    assert f'<html lang="{lang}" ' in page
    assert title(page) == (SPANISH if lang == "es" else ENGLISH)


async def test_a_visitor_chooses_a_language_kept_in_a_cookie(client):
    response = await post(client, "/language?next=/explore", {"locale": "es"})
    assert response.status_code == 303 and response.headers["Location"] == "/explore"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("locale=es;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = await login_page(client, "en-GB,en;q=0.9")  # the choice wins over the browser's
    assert '<html lang="es" ' in page and title(page) == SPANISH
    await post(client, "/language", {"locale": "en"})
    assert title(await login_page(client, "es")) == ENGLISH


async def test_a_user_choice_is_saved_on_the_account_and_follows_them(app, db, alice_client, alice):
    response = await post(alice_client, "/language", {"locale": "es"}, headers={"Referer": "http://localhost/explore"})
    assert response.status_code == 303 and response.headers["Location"] == "/explore"
    assert (await db.scalar(select(LocalUser.locale).where(LocalUser.user_id == alice.id))) == "es"
    other_browser = app.test_client()  # no cookie, an English browser: the account decides
    await post(other_browser, "/auth/login", {"nickname": "alice", "password": "correct horse"})
    page = await text_of(await other_browser.get("/explore", headers={"Accept-Language": "en"}))
    assert '<html lang="es" ' in page and "Explorar - microblog" == title(page)


async def test_the_menu_is_on_every_page_and_names_each_language_in_itself(client):
    page = await login_page(client, "es")
    assert 'action="/language?next=/auth/login"' in page
    assert 'value="en" lang="en"' in page and ">English</button>" in page
    assert 'value="es" lang="es"' in page and ">Español</button>" in page


@pytest.mark.parametrize("locale", ["fr", "", "es'><script>", "x" * 5000])
async def test_a_language_the_site_does_not_offer_is_refused(client, locale):
    response = await post(client, "/language?next=/explore", {"locale": locale})
    assert response.status_code == 303 and response.headers["Location"] == "/explore"
    assert "locale=" not in response.headers.get("Set-Cookie", "")
    page = await text_of(await client.get("/explore"))
    assert flashes(page) == ["That language is not available."] and '<html lang="en" ' in page


async def test_the_menu_is_protected_by_csrf(client):
    response = await client.post("/language", form={"locale": "es"})
    assert response.status_code == 400 and CSRF_MESSAGE in await text_of(response)
    assert "locale=" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
async def test_the_menu_never_redirects_off_site(client, next_url):
    response = await post(client, f"/language?next={next_url}", {"locale": "es"},
                          headers={"Referer": "https://evil.example/page"})
    assert response.status_code == 303 and response.headers["Location"] == "/index"


async def test_htmx_fragments_are_in_the_readers_language(client, db, alice):
    await make_post(db, alice, "hola")
    await post(client, "/language", {"locale": "es"})
    fragment = visible(await text_of(await client.get("/explore", headers=HTMX)))
    assert "alice @alice · ahora mismo hola" in fragment


async def test_pages_in_the_readers_language_vary_with_accept_language(client):
    response = await client.get("/auth/login", headers={"Accept-Language": "es"})
    assert {"Accept-Language", "Cookie", "HX-Request"} <= set(response.vary)


async def test_gettext_in_code_is_quart_babels_with_one_catalogue_per_request(app):
    """Views, forms and jobs translate with i18n's gettext family: the request's language,
    formatting, plural forms, lazy strings; outside any app context, the English text."""
    from quart_babel import gettext as babel_gettext, ngettext as babel_ngettext
    from microblog.i18n import gettext, lazy_gettext, ngettext
    label = lazy_gettext("Sign In")
    for accept_language, expected in (("es", "Iniciar sesión"), ("en", "Sign In")):
        async with app.test_request_context("/", headers={"Accept-Language": accept_language}):
            assert gettext("Sign In") == babel_gettext("Sign In") == expected == str(label)
            for count in (1, 3):
                wait = "Too many failed attempts. Try again in %(seconds)d seconds."
                assert gettext(wait, seconds=count) == babel_gettext(wait, seconds=count)
                many = ("Too many requests from your network. Try again in %(num)d minute.",
                        "Too many requests from your network. Try again in %(num)d minutes.")
                assert ngettext(*many, count) == babel_ngettext(*many, count)
    assert gettext("Sign In") == str(label) == "Sign In"
    assert gettext("%(n)s left", n=2) == "2 left"
