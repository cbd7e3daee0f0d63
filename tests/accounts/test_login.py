"""Logging in and out: the forms, wrong passwords, remember-me and cookie flags, where `next` may lead."""
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select

from conftest import TEST_CONFIG, empty_database, flashes, login, make_user, post, text_of
from helpers import INVALID_LOGIN, control, field_errors, form_action, input_value, page_of, session_with_token, set_cookies
from htmltree import parse
from microblog import create_app
from microblog.accounts.throttle import Throttle


@pytest.mark.parametrize("url, title", [
    ("/auth/login", "Sign In"),
    ("/auth/register", "Register"),
    ("/auth/logout", "Log out"),
    ("/auth/reset_password_request", "Reset Password"),
])
async def test_auth_pages_render(client, url, title):
    response = await client.get(url)
    assert response.status_code == 200
    html = await text_of(response)
    assert f"<title>{title} - microblog</title>" in html
    assert 'name="csrf_token"' in html


async def test_logout_page_asks_then_post_logs_out(alice_client):
    page = await text_of(await alice_client.get("/auth/logout"))
    assert "Do you want to log out?" in page
    assert (await alice_client.get("/index")).status_code == 200
    response = await post(alice_client, "/auth/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    assert "You have been logged out." in flashes(await text_of(await alice_client.get("/auth/login")))
    assert (await alice_client.get("/index")).status_code == 302


# --- logging in -------------------------------------------------------------------------------

async def test_login_wrong_password_and_unknown_nickname_look_the_same(client, alice):
    wrong = await login(client, "alice", "wrong password")
    unknown = await login(client, "nobody", "correct horse")
    assert wrong.status_code == unknown.status_code == 422
    wrong_html, unknown_html = await text_of(wrong), await text_of(unknown)
    assert INVALID_LOGIN in wrong_html and INVALID_LOGIN in unknown_html
    assert input_value(wrong_html, "nickname") == "alice"
    assert input_value(unknown_html, "nickname") == "nobody"
    assert input_value(wrong_html, "password") in (None, "")
    assert set_cookies(wrong, "QUART_AUTH") == []
    assert (await client.get("/index")).status_code == 302


async def test_login_nickname_is_case_insensitive(client, alice):
    response = await login(client, "ALICE")
    assert response.status_code == 303
    assert "Welcome, alice!" in flashes(await text_of(await client.get("/index")))


async def test_a_first_log_in_says_welcome_the_next_welcome_back(client, alice):
    assert (await login(client, "alice")).status_code == 303
    assert flashes(await text_of(await client.get("/index"))) == ["Welcome, alice!"]  # a brand-new account
    await post(client, "/auth/logout")
    assert (await login(client, "alice")).status_code == 303
    assert flashes(await text_of(await client.get("/index")))[-1] == "Welcome back, alice!"


async def test_login_missing_fields(client):
    response = await post(client, "/auth/login", {})
    assert response.status_code == 422
    html = await text_of(response)
    assert field_errors(html, "nickname") == ["This field is required."]
    assert field_errors(html, "password") == ["This field is required."]


async def test_login_with_an_overlong_nickname_is_a_form_error_not_a_crash(client, db):
    # The throttle key is "login:" + nickname in a String(200): PostgreSQL once answered 500 here.
    for _ in range(2):
        response = await login(client, "x" * 300, "wrong password")
        assert response.status_code == 422
        assert "Field cannot be longer than 64 characters." in field_errors(await text_of(response), "nickname")
    assert (await db.scalars(select(Throttle))).all() == []


async def test_the_fresh_form_kept_rendered_has_each_sessions_token_address_and_language(app, client):
    """The log-in form is kept rendered when fresh (accounts/forms.py login_form): each visitor
    still gets their own session's CSRF token and the form goes back to where they were going."""
    visitors = [(await session_with_token(app, f"token-{n}"), f"token-{n}") for n in range(2)]
    for target in ("/user/alice", "/explore?a=1&b=<2>", None):
        for visitor, token in visitors:
            page = await page_of(visitor, "/auth/login" + (f"?next={quote(target)}" if target else ""))
            form = next(a for a in control(page, "nickname").ancestors() if a.tag == "form")
            assert control(form, "csrf_token").get("value") == token
            action = urlsplit(form.get("action"))
            assert action.path == "/auth/login" and parse_qs(action.query).get("next") == ([target] if target else None)
            assert input_value(page, "nickname") == "" and input_value(page, "password") in (None, "")
    refused = await post(client, "/auth/login?next=/user/alice", {"nickname": "alice", "password": "wrong"})
    page = await text_of(refused)
    assert refused.status_code == 422 and input_value(page, "nickname") == "alice"
    assert form_action(page, "nickname") == "/auth/login?next=/user/alice"
    spanish = await client.get("/auth/login", headers={"Accept-Language": "es"})
    assert parse(await text_of(spanish)).find("label", **{"for": "password"}).text == "Contraseña"
    assert parse(await page_of(client, "/auth/login")).find("label", **{"for": "password"}).text == "Password"


# --- cookies ----------------------------------------------------------------------------------

async def test_remember_me_makes_the_cookie_last(client, alice):
    response = await login(client, "alice", remember=True)
    assert response.status_code == 303
    [cookie] = set_cookies(response, "QUART_AUTH")
    assert "Max-Age=31536000" in cookie or "Expires=" in cookie


async def test_without_remember_me_the_cookie_ends_with_the_browser(client, alice):
    response = await login(client, "alice")
    assert response.status_code == 303
    [cookie] = set_cookies(response, "QUART_AUTH")
    assert "Max-Age" not in cookie and "Expires" not in cookie


@pytest.fixture
async def default_cookie_app(database_url, monkeypatch):
    """The app as configured out of the box (SECURE_COOKIES unset): cookies are Secure."""
    monkeypatch.delenv("SECURE_COOKIES", raising=False)
    config = {k: v for k, v in TEST_CONFIG.items()
              if k not in ("SESSION_COOKIE_SECURE", "QUART_AUTH_COOKIE_SECURE")}
    await empty_database(database_url)
    app = create_app({**config, "DATABASE_URL": database_url})
    async with app.test_app():
        yield app


async def test_cookies_are_httponly_lax_and_secure_by_default(default_cookie_app):
    async with default_cookie_app.extensions["db_sessionmaker"]() as session:
        await make_user(session, "alice")
    client = default_cookie_app.test_client()
    response = await post(client, "/auth/login", {"nickname": "alice", "password": "correct horse"},
                          scheme="https")
    assert response.status_code == 303
    for name in ("QUART_AUTH", "session"):
        [cookie] = set_cookies(response, name)
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in attributes, cookie
        assert "samesite=lax" in attributes, cookie
        assert "secure" in attributes, cookie


async def test_cookies_are_not_secure_when_turned_off(client, alice):
    # The test configuration, like a Pi on plain http, sets SECURE_COOKIES off.
    response = await login(client, "alice")
    for name in ("QUART_AUTH", "session"):
        [cookie] = set_cookies(response, name)
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert "secure" not in attributes and "httponly" in attributes and "samesite=lax" in attributes


# --- where to go after logging in -------------------------------------------------------------

@pytest.mark.parametrize("url", ["/auth/login", "/auth/register", "/auth/reset_password_request"])
async def test_logged_in_user_is_sent_home(alice_client, url):
    response = await alice_client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/index"


async def test_next_inside_the_site_is_followed(client, alice):
    response = await post(client, "/auth/login?next=/user/alice",
                          {"nickname": "alice", "password": "correct horse"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/user/alice"


@pytest.mark.parametrize("target", [
    "https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)",
    "/\t/evil.example", "\\\\evil.example", "http:/evil.example",
])
async def test_next_outside_the_site_is_refused(client, alice, target):
    page = await text_of(await client.get("/auth/login", query_string={"next": target}))
    assert "evil" not in page
    response = await post(client, "/auth/login", {"nickname": "alice", "password": "correct horse"},
                          query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
