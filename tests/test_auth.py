import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import TEST_CONFIG, csrf_token, empty_database, flashes, login, make_user, post, text_of
from helpers import CSRF_MESSAGE, INVALID_LOGIN, field_errors, form_action, input_value, login_next, set_cookies
from microblog import create_app
from microblog.accounts import User
from microblog.accounts.throttle import Throttle
from microblog.db import utcnow


async def test_register_then_login_and_logout(client, db):
    response = await client.get("/auth/register")
    assert response.status_code == 200
    assert "<title>Register - microblog</title>" in await text_of(response)

    response = await post(client, "/auth/register", {
        "nickname": "carol", "email": "Carol@Example.com", "password": "long enough", "password2": "long enough"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    carol = await User.by_nickname(db, "CAROL")
    assert carol.email == "carol@example.com"
    assert carol.password_hash.startswith("$argon2")

    response = await login(client, "carol", "long enough")
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    page = await text_of(await client.get("/index"))
    assert "Hi, carol!" in page

    response = await post(client, "/auth/logout")
    assert response.status_code == 303
    response = await client.get("/index")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


# --- helpers --------------------------------------------------------------------------


async def register(client, nickname="carol", email="carol@example.com",
                   password="long enough", password2=None, **kwargs):
    return await post(client, "/auth/register", {
        "nickname": nickname, "email": email, "password": password,
        "password2": password if password2 is None else password2}, **kwargs)


# --- every route answers GET and POST ------------------------------------------------

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


async def test_reset_request_rejects_bad_email(client):
    response = await post(client, "/auth/reset_password_request", {"email": "not-an-email"})
    assert response.status_code == 422
    html = await text_of(response)
    assert field_errors(html, "email") == ["Invalid email address."]
    assert input_value(html, "email") == "not-an-email"


# --- registration validation -----------------------------------------------------------

async def test_register_missing_fields(client, db):
    response = await post(client, "/auth/register", {})
    assert response.status_code == 422
    html = await text_of(response)
    for field in ("nickname", "email", "password", "password2"):
        assert field_errors(html, field) == ["This field is required."], field
    assert await db.scalar(select(User.id)) is None


@pytest.mark.parametrize("fields, field, message", [
    ({"email": "carol-at-example.com"}, "email", "Invalid email address."),
    ({"nickname": "carol smith"}, "nickname", "Please use only letters, digits, dots and underscores."),
    ({"nickname": "carol<script>"}, "nickname", "Please use only letters, digits, dots and underscores."),
    ({"nickname": "c" * 65}, "nickname", "Nicknames are at most 64 characters."),
    ({"email": "a" * 60 + "@" + "b" * 60 + ".com"}, "email", "Field cannot be longer than 120 characters."),
    ({"password": "short", "password2": "short"}, "password", "Field must be between 8 and 1024 characters long."),
    ({"password2": "something else"}, "password2", "The two passwords do not match."),
])
async def test_register_validation_errors_keep_typed_values(client, db, fields, field, message):
    data = {"nickname": "carol", "email": "carol@example.com",
            "password": "long enough", "password2": "long enough", **fields}
    response = await post(client, "/auth/register", data)
    assert response.status_code == 422
    html = await text_of(response)
    assert message in field_errors(html, field)
    assert 'aria-invalid="true"' in html
    # What the user typed is still there (escaped), passwords are never echoed back.
    assert input_value(html, "nickname") == data["nickname"]  # as the browser shows it; escaped: see below
    assert input_value(html, "email") == data["email"]
    assert input_value(html, "password") in (None, "") and input_value(html, "password2") in (None, "")
    assert "carol<script>" not in html
    assert await db.scalar(select(User.id)) is None


async def test_register_nickname_64_characters_is_fine(client, db):
    response = await register(client, nickname="n" * 64)
    assert response.status_code == 303
    assert await User.by_nickname(db, "N" * 64) is not None


async def test_register_nickname_taken_whatever_the_case(app, client, db):
    await make_user(db, "Carol", "first@example.com")
    response = await register(client, nickname="carol", email="second@example.com")
    assert response.status_code == 422
    html = await text_of(response)
    assert field_errors(html, "nickname") == ["This nickname is taken. How about carol2?"]
    assert input_value(html, "nickname") == "carol"
    assert input_value(html, "email") == "second@example.com"

    await make_user(db, "carol2", "third@example.com")
    html = await text_of(await register(client, nickname="CAROL", email="second@example.com"))
    assert field_errors(html, "nickname") == ["This nickname is taken. How about CAROL3?"]
    assert len((await db.scalars(select(User))).all()) == 2


async def test_register_email_taken(app, client, db):
    await make_user(db, "alice", "alice@example.com")
    response = await register(client, nickname="carol", email="Alice@Example.com")
    assert response.status_code == 422
    html = await text_of(response)
    assert field_errors(html, "email") == ["This email address is already registered."]
    assert field_errors(html, "nickname") == []
    assert input_value(html, "email") == "alice@example.com"  # kept, as it is stored: lower-case


async def test_register_race_for_one_nickname(app, db):
    """Two people submit the same nickname at the same moment: one wins, the other gets the form."""
    first, second = app.test_client(), app.test_client()
    responses = await asyncio.gather(
        register(first, nickname="dave", email="dave1@example.com"),
        register(second, nickname="Dave", email="dave2@example.com"),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303, 422]
    loser = next(r for r in responses if r.status_code == 422)
    errors = field_errors(await text_of(loser), "nickname")
    assert len(errors) == 1 and errors[0].startswith("This nickname is taken. How about ")
    users = (await db.scalars(select(User))).all()
    assert len(users) == 1 and users[0].nickname.lower() == "dave"


async def test_register_race_for_one_email(app, db):
    first, second = app.test_client(), app.test_client()
    responses = await asyncio.gather(
        register(first, nickname="erin", email="erin@example.com"),
        register(second, nickname="erin_b", email="ERIN@example.com"),
    )
    assert sorted(r.status_code for r in responses) == [303, 422]
    loser = next(r for r in responses if r.status_code == 422)
    assert field_errors(await text_of(loser), "email") == ["This email address is already registered."]
    assert len((await db.scalars(select(User))).all()) == 1


# --- logging in ------------------------------------------------------------------------

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
    assert "Welcome back, alice!" in flashes(await text_of(await client.get("/index")))


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


async def test_login_required_redirects_back_after_login(client, alice):
    response = await client.get("/index?cursor=abc")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert login_next(location) == "/index?cursor=abc"
    page = await text_of(await client.get(location))
    assert "Please log in to access this page." in flashes(page)
    # The form posts back to the same address, so `next` survives the submit.
    action = form_action(page, "nickname")
    assert action == location
    response = await post(client, action, {"nickname": "alice", "password": "correct horse"})
    assert response.headers["Location"] == "/index?cursor=abc"


async def test_login_required_htmx_gets_401_with_hx_redirect(client):
    response = await client.get("/index", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert login_next(response.headers["HX-Redirect"]) == "/index"
    html = await text_of(response)
    assert "Please log in to access this page." in html
    assert "<html" not in html


# --- failed-login slow-down --------------------------------------------------------------

async def test_failed_logins_slow_down_then_recover(client, db, alice):
    for _ in range(Throttle.FREE_ATTEMPTS):
        response = await login(client, "alice", "wrong password")
        assert INVALID_LOGIN in await text_of(response)

    # Even the right password is refused now, whatever the nickname's case.
    response = await login(client, "ALICE", "correct horse")
    assert response.status_code == 422
    assert "Too many failed attempts" in await text_of(response)
    assert set_cookies(response, "QUART_AUTH") == []

    throttle = await db.get(Throttle, Throttle.key_for("login", "alice"))
    assert throttle.failures == Throttle.FREE_ATTEMPTS  # the refused attempt was not even tried
    # Time passes: the wait is over.
    throttle.next_allowed = utcnow() - timedelta(seconds=1)
    await db.commit()

    response = await login(client, "alice", "correct horse")
    assert response.status_code == 303
    db.expire_all()
    assert await db.get(Throttle, Throttle.key_for("login", "alice")) is None


async def test_parallel_attempts_cannot_slip_past_the_slow_down(app, db, alice):
    """Attempts sent all at once are claimed one by one before any password is checked."""
    clients = [app.test_client() for _ in range(12)]
    responses = await asyncio.gather(*(login(c, "alice", "wrong password") for c in clients))
    pages = [await text_of(r) for r in responses]
    assert sum(INVALID_LOGIN in page for page in pages) == Throttle.FREE_ATTEMPTS
    assert sum("Too many failed attempts" in page for page in pages) == 12 - Throttle.FREE_ATTEMPTS
    assert (await db.get(Throttle, Throttle.key_for("login", "alice"))).failures == Throttle.FREE_ATTEMPTS


async def test_slow_down_is_per_nickname(client, alice, bob):
    for _ in range(Throttle.FREE_ATTEMPTS + 1):
        await login(client, "alice", "wrong password")
    response = await login(client, "bob")
    assert response.status_code == 303


async def test_failures_under_the_limit_are_forgiven_by_a_success(client, db, alice):
    for _ in range(Throttle.FREE_ATTEMPTS - 1):
        await login(client, "alice", "wrong password")
    assert (await login(client, "alice")).status_code == 303
    assert await db.get(Throttle, Throttle.key_for("login", "alice")) is None


# --- CSRF ------------------------------------------------------------------------------

async def test_post_without_csrf_token_is_refused(client, db, alice):
    response = await client.post("/auth/login", form={"nickname": "alice", "password": "correct horse"})
    assert response.status_code == 400
    assert CSRF_MESSAGE in await text_of(response)
    assert set_cookies(response, "QUART_AUTH") == []


async def test_post_with_wrong_csrf_token_is_refused(client, db):
    await post(client, "/auth/login", {})  # the session now has a token
    response = await client.post("/auth/register", form={
        "csrf_token": "not-the-token", "nickname": "mallory", "email": "m@example.com",
        "password": "long enough", "password2": "long enough"})
    assert response.status_code == 400
    assert CSRF_MESSAGE in await text_of(response)
    assert await User.by_nickname(db, "mallory") is None


async def test_htmx_post_with_csrf_header_is_accepted(client, alice):
    response = await post(client, "/auth/login", {"nickname": "alice", "password": "correct horse"},
                          htmx=True)
    assert response.status_code == 303
    assert (await client.get("/index")).status_code == 200


async def test_htmx_post_with_wrong_csrf_header_gets_a_message_fragment(client, alice):
    await csrf_token(client)  # the session has a token; the header sends another
    response = await client.post("/auth/login", form={"nickname": "alice", "password": "correct horse"},
                                 headers={"HX-Request": "true", "X-CSRFToken": "wrong"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#flashes"
    html = await text_of(response)
    assert CSRF_MESSAGE in html and "<html" not in html


# --- last seen ---------------------------------------------------------------------------

async def test_last_seen_is_written_at_most_once_a_minute(alice_client, db, alice):
    before = utcnow()
    assert (await alice_client.get("/index")).status_code == 200
    await db.refresh(alice)
    first = alice.last_seen
    assert first is not None and first >= before - timedelta(seconds=1)

    assert (await alice_client.get("/explore")).status_code == 200
    await db.refresh(alice)
    assert alice.last_seen == first  # not written again within the minute

    alice.last_seen = first - timedelta(minutes=2)
    await db.commit()
    assert (await alice_client.get("/index")).status_code == 200
    await db.refresh(alice)
    assert alice.last_seen >= first
