"""Log-in sessions live on the server: logging out ends them for good, a session without
"remember me" ends with the browser and after a while idle, and a user sees their sessions and
ends the others. Two test clients are two browsers."""
import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from conftest import flashes, login, make_user, post, text_of
from microblog.accounts.reset import make_reset_token
from microblog.config import from_environment
from microblog.accounts.sessions import MAX_PER_USER, LoginSession, describe_user_agent
from microblog.db import utcnow
from microblog.posts import Post

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0.0.0 Safari/537.36")


def auth_cookie(client) -> str:
    [value] = [cookie.value for cookie in client.cookie_jar if cookie.name == "QUART_AUTH"]
    return value


def copy_cookie(app, value: str):
    """A browser of the thief's, with a copy of someone's log-in cookie."""
    thief = app.test_client()
    thief.set_cookie("localhost", "QUART_AUTH", value)
    return thief


def set_cookie_headers(response, name: str) -> list[str]:
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]


async def browser(app, nickname: str, user_agent: str = FIREFOX_LINUX, remember: bool = False):
    client = app.test_client()
    data = {"nickname": nickname, "password": "correct horse", **({"remember_me": "y"} if remember else {})}
    response = await post(client, "/auth/login", data, headers={"User-Agent": user_agent})
    assert response.status_code == 303
    await client.get("/index")  # read the welcome flash
    return client


async def is_logged_in(client) -> bool:
    response = await client.get("/index")
    assert response.status_code in (200, 302)
    return response.status_code == 200


async def sessions_of(db, user) -> list[LoginSession]:
    """The user's session rows, as they are in the database now."""
    user_id = inspect(user).identity[0]  # without loading `user`, which may be expired
    db.expire_all()
    return list(await db.scalars(select(LoginSession).where(LoginSession.user_id == user_id)))


def session_ids(html: str) -> list[str]:
    return re.findall(r'action="/auth/sessions/([0-9a-f]{64})/end"', html)


@pytest.fixture
async def alice(db):
    return await make_user(db, "alice")


@pytest.fixture
async def bob(db):
    return await make_user(db, "bob")


# --- logging out ends the session on the server -----------------------------------------------

async def test_a_copied_cookie_stops_working_at_logout(app, db, alice):
    owner = await browser(app, "alice")
    thief = copy_cookie(app, auth_cookie(owner))
    assert await is_logged_in(thief)  # a copy works while the session lives: it is the session

    response = await post(owner, "/auth/logout")
    assert response.status_code == 303

    response = await thief.get("/index")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    response = await post(thief, "/post", {"post": "written after the logout"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert await db.scalar(select(func.count()).select_from(Post)) == 0
    assert await sessions_of(db, alice) == []


async def test_logging_out_ends_only_this_browsers_session(app, db, alice):
    laptop, phone = await browser(app, "alice"), await browser(app, "alice", SAFARI_IPHONE)
    assert (await post(laptop, "/auth/logout")).status_code == 303
    assert not await is_logged_in(laptop)
    assert await is_logged_in(phone)
    assert len(await sessions_of(db, alice)) == 1


async def test_a_cookie_naming_no_session_is_removed(app, db, alice):
    client = await browser(app, "alice")
    await LoginSession.end_others(db, alice, keep=None)
    await db.commit()
    response = await client.get("/index")
    assert response.status_code == 302
    [cookie] = set_cookie_headers(response, "QUART_AUTH")
    assert "Max-Age=0" in cookie or "Expires=Thu, 01 Jan 1970" in cookie


# --- lifetimes ---------------------------------------------------------------------------------

async def test_without_remember_me_the_session_ends_with_the_browser_and_when_idle(app, db, alice):
    client = app.test_client()
    response = await login(client, "alice")
    [cookie] = set_cookie_headers(response, "QUART_AUTH")
    assert "Max-Age" not in cookie and "Expires" not in cookie  # gone when the browser closes
    [session] = await sessions_of(db, alice)
    assert session.remember is False
    assert abs(session.expires - (utcnow() + timedelta(hours=12))) < timedelta(minutes=1)

    # Twelve hours pass without a visit: the server ends it, even for a browser never closed.
    session.last_seen = utcnow() - timedelta(hours=12, minutes=1)
    session.expires = utcnow() - timedelta(minutes=1)
    await db.commit()
    assert not await is_logged_in(client)


async def test_an_idle_session_lives_on_while_it_is_used(app, db, alice):
    client = await browser(app, "alice")
    [session] = await sessions_of(db, alice)
    session.last_seen = utcnow() - timedelta(hours=11)
    session.expires = utcnow() + timedelta(hours=1)
    await db.commit()
    assert await is_logged_in(client)
    [session] = await sessions_of(db, alice)
    assert session.last_seen > utcnow() - timedelta(minutes=1)
    assert abs(session.expires - (utcnow() + timedelta(hours=12))) < timedelta(minutes=1)


async def test_last_used_is_written_at_most_once_a_minute(app, db, alice):
    client = await browser(app, "alice")
    [session] = await sessions_of(db, alice)
    first = session.last_seen
    assert await is_logged_in(client)
    [session] = await sessions_of(db, alice)
    assert session.last_seen == first


async def test_the_idle_limit_is_a_setting(app, db, alice):
    app.config["SESSION_IDLE_HOURS"] = 0.5
    await browser(app, "alice")
    [session] = await sessions_of(db, alice)
    assert abs(session.expires - (utcnow() + timedelta(minutes=30))) < timedelta(minutes=1)


async def test_remember_me_sessions_last_long(app, db, alice):
    client = app.test_client()
    response = await login(client, "alice", remember=True)
    [cookie] = set_cookie_headers(response, "QUART_AUTH")
    assert "Max-Age=31536000" in cookie
    [session] = await sessions_of(db, alice)
    assert session.remember is True
    assert abs(session.expires - (utcnow() + timedelta(days=365))) < timedelta(minutes=1)

    # Used after months: it does not idle out, but it ends at its time.
    session.last_seen = utcnow() - timedelta(days=200)
    await db.commit()
    assert await is_logged_in(client)
    session.expires = utcnow() - timedelta(seconds=1)
    await db.commit()
    assert not await is_logged_in(client)


async def test_expired_sessions_are_removed_at_the_next_log_in(app, db, alice, bob):
    await browser(app, "alice")
    [old] = await sessions_of(db, alice)
    old.expires = utcnow() - timedelta(seconds=1)
    await db.commit()
    await browser(app, "bob")
    assert await sessions_of(db, alice) == []


async def test_a_user_keeps_a_bounded_number_of_sessions(app, db, alice):
    now = utcnow()
    for n in range(MAX_PER_USER):
        db.add(LoginSession(id=f"{n:064x}", user_id=alice.id, password_fingerprint=alice.password_fingerprint,
                            created=now, last_seen=now - timedelta(minutes=n + 1), expires=now + timedelta(days=1),
                            remember=True, user_agent=""))
    await db.commit()
    client = await browser(app, "alice")
    sessions = await sessions_of(db, alice)
    assert len(sessions) == MAX_PER_USER
    assert f"{MAX_PER_USER - 1:064x}" not in {s.id for s in sessions}  # the one unused for longest
    assert await is_logged_in(client)


# --- a changed password ends every session ---------------------------------------------------

async def test_a_password_reset_ends_every_session(app, db, alice):
    laptop = await browser(app, "alice", remember=True)
    phone = await browser(app, "alice", SAFARI_IPHONE)
    async with app.app_context():
        token = make_reset_token(alice)
    response = await post(app.test_client(), f"/auth/reset_password/{token}",
                          {"password": "a brand new password", "password2": "a brand new password"})
    assert response.status_code == 303
    assert await sessions_of(db, alice) == []
    assert not await is_logged_in(laptop) and not await is_logged_in(phone)
    assert (await login(laptop, "alice", "a brand new password")).status_code == 303


# --- the sessions page -------------------------------------------------------------------------

async def test_the_sessions_page_is_linked_from_the_profile_settings(app, alice):
    client = await browser(app, "alice")
    page = await text_of(await client.get("/edit_profile"))
    assert 'href="/auth/sessions"' in page


async def test_the_sessions_page_lists_ones_own_sessions_and_marks_this_one(app, db, alice, bob):
    laptop = await browser(app, "alice", FIREFOX_LINUX)
    phone = await browser(app, "alice", SAFARI_IPHONE, remember=True)
    await browser(app, "bob", CHROME_WINDOWS)

    response = await laptop.get("/auth/sessions")
    assert response.status_code == 200
    page = await text_of(response)
    assert "<title>Your sessions - microblog</title>" in page
    items = re.findall(r"<li class=\"list-group-item.*?</li>", page, re.S)
    assert len(items) == 2  # alice's two, not bob's
    this = next(item for item in items if "This browser" in item)
    other = next(item for item in items if "This browser" not in item)
    assert "Firefox on Linux" in this and "End session" not in this
    assert "Safari on iPhone" in other and "End session" in other
    assert "Chrome on Windows" not in page
    assert "ends when the browser closes" in this and "ends when the browser closes" not in other
    assert re.search(r"Logged in <time datetime=\"[^\"]+\" title=\"[^\"]+ \(UTC\)\">today at [^<]+</time>, "
                     r"last used <time datetime=\"[^\"]+\" title=\"[^\"]+\">today at ", this)
    assert "End all other sessions" in page
    sessions = {s.user_agent: s.id for s in await sessions_of(db, alice)}
    assert session_ids(page) == [sessions[SAFARI_IPHONE]]
    assert await is_logged_in(phone)


async def test_the_sessions_page_needs_a_log_in(client):
    response = await client.get("/auth/sessions")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    response = await post(client, "/auth/sessions/end-others")
    assert response.status_code == 302


async def test_ending_another_session_logs_that_browser_out(app, db, alice):
    laptop, phone = await browser(app, "alice"), await browser(app, "alice", SAFARI_IPHONE)
    [phone_session] = session_ids(await text_of(await laptop.get("/auth/sessions")))

    response = await post(laptop, f"/auth/sessions/{phone_session}/end")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/sessions"
    page = await text_of(await laptop.get("/auth/sessions"))
    assert flashes(page) == ["The session has been ended."]
    assert session_ids(page) == [] and "You are not logged in anywhere else." in page
    assert not await is_logged_in(phone)
    assert await is_logged_in(laptop)


async def test_ending_a_session_with_htmx_answers_the_list_and_the_message(app, alice):
    laptop, _phone = await browser(app, "alice"), await browser(app, "alice", SAFARI_IPHONE)
    [phone_session] = session_ids(await text_of(await laptop.get("/auth/sessions")))
    response = await post(laptop, f"/auth/sessions/{phone_session}/end", htmx=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers.get("Vary", "")
    html = await text_of(response)
    assert "<html" not in html and '<div id="sessions"' in html
    assert "The session has been ended." in html and 'hx-target="#flashes"' in html
    assert session_ids(html) == [] and "This browser" in html
    # The page itself varies too: a cache must not give its htmx answer to a browser, or back.
    assert "HX-Request" in (await laptop.get("/auth/sessions")).headers.get("Vary", "")


async def test_ending_all_other_sessions(app, alice):
    laptop = await browser(app, "alice")
    phone = await browser(app, "alice", SAFARI_IPHONE, remember=True)
    tablet = await browser(app, "alice", CHROME_WINDOWS)
    response = await post(laptop, "/auth/sessions/end-others")
    assert response.status_code == 303
    assert flashes(await text_of(await laptop.get("/auth/sessions"))) == ["All your other sessions have been ended."]
    assert not await is_logged_in(phone) and not await is_logged_in(tablet)
    assert await is_logged_in(laptop)

    again = await browser(app, "alice", SAFARI_IPHONE)
    html = await text_of(await post(laptop, "/auth/sessions/end-others", htmx=True))
    assert "All your other sessions have been ended." in html and session_ids(html) == []
    assert not await is_logged_in(again)


async def test_nobody_can_end_someone_elses_session(app, db, alice, bob):
    alice_client = await browser(app, "alice")
    [alice_session] = await sessions_of(db, alice)
    bob_client = await browser(app, "bob")
    response = await post(bob_client, f"/auth/sessions/{alice_session.id}/end")
    assert response.status_code == 303  # the same answer as for one's own: nothing to learn
    assert await is_logged_in(alice_client)
    assert len(await sessions_of(db, alice)) == 1
    await post(bob_client, "/auth/sessions/end-others")
    assert await is_logged_in(alice_client)


async def test_ending_sessions_needs_the_csrf_token(app, db, alice):
    laptop, phone = await browser(app, "alice"), await browser(app, "alice", SAFARI_IPHONE)
    [phone_session] = session_ids(await text_of(await laptop.get("/auth/sessions")))
    for url in (f"/auth/sessions/{phone_session}/end", "/auth/sessions/end-others"):
        response = await laptop.post(url, form={"csrf_token": "forged"})
        assert response.status_code == 400
    assert await is_logged_in(phone)


async def test_ending_a_session_twice_at_once_is_a_quiet_success(app, alice):
    laptop, phone = await browser(app, "alice"), await browser(app, "alice", SAFARI_IPHONE)
    [phone_session] = session_ids(await text_of(await laptop.get("/auth/sessions")))
    # The same browser clicking twice, and the phone using its session meanwhile.
    responses = await asyncio.gather(post(laptop, f"/auth/sessions/{phone_session}/end"),
                                     post(laptop, f"/auth/sessions/{phone_session}/end"),
                                     post(laptop, "/auth/sessions/end-others"),
                                     phone.get("/index"))
    assert [r.status_code for r in responses[:3]] == [303, 303, 303]
    assert responses[3].status_code in (200, 302)
    assert not await is_logged_in(phone)


async def test_a_malformed_session_id_is_not_found(app, alice):
    laptop = await browser(app, "alice")
    for session_id in ("x" * 64, "0" * 63, "A" * 64, "0" * 65):
        assert (await post(laptop, f"/auth/sessions/{session_id}/end")).status_code == 404


async def test_ending_this_browsers_own_session_logs_out(app, db, alice):
    laptop = await browser(app, "alice")
    [session] = await sessions_of(db, alice)
    response = await post(laptop, f"/auth/sessions/{session.id}/end")
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert not await is_logged_in(laptop)
    laptop = await browser(app, "alice")
    [session] = await sessions_of(db, alice)
    response = await post(laptop, f"/auth/sessions/{session.id}/end", htmx=True)
    assert response.headers["HX-Redirect"] == "/auth/login"
    assert not await is_logged_in(laptop)


async def test_the_user_agent_is_stored_briefly_and_shown_escaped(app, db, alice):
    laptop = await browser(app, "alice", "<script>alert(1)</script>\x00" + "x" * 1000)
    [session] = await sessions_of(db, alice)
    assert len(session.user_agent) == 256 and "\x00" not in session.user_agent
    page = await text_of(await laptop.get("/auth/sessions"))
    assert "<script>alert" not in page and "An unknown browser" in page


@pytest.mark.parametrize("user_agent, expected", [
    (FIREFOX_LINUX, ("Firefox", "Linux")),
    (SAFARI_IPHONE, ("Safari", "iPhone")),
    (CHROME_WINDOWS, ("Chrome", "Windows")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", ("Edge", "Windows")),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Mobile Safari/537.36", ("Chrome", "Android")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15", ("Safari", "macOS")),
    ("curl/8.5.0", (None, None)),
    ("", (None, None)),
])
def test_user_agents_are_described_in_a_few_words(user_agent, expected):
    assert describe_user_agent(user_agent) == expected


def test_session_lifetimes_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROBLOG_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.setenv("SESSION_IDLE_HOURS", "2")
    monkeypatch.setenv("REMEMBER_ME_DAYS", "30")
    config = from_environment(str(tmp_path))
    assert config["SESSION_IDLE_HOURS"] == 2 and config["REMEMBER_ME_DAYS"] == 30
    assert config["QUART_AUTH_DURATION"] == 30 * 24 * 3600  # a remembered cookie's Max-Age
