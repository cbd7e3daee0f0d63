"""Odd requests from outside get quick, clear answers: bodies over the limit, hosts that are not
host names, forms that are not UTF-8, methods a page does not have; and every personalised answer
says how it may be cached."""
import time

import pytest

from conftest import TEST_CONFIG, flashes, login, make_user, post, text_of
from microblog import create_app


async def test_a_large_body_is_refused_at_once_before_any_check(client):
    body = "x=" + "%22" * (5 * 1024 * 1024)  # 15 MB of url-encoded quotes, no cookie, no token
    started = time.perf_counter()
    response = await client.post("/auth/register", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert time.perf_counter() - started < 1  # refused before parsing, not after 4 s
    assert "<html" in await text_of(response)  # the site's own error page


async def test_a_body_just_under_the_limit_is_read(client):
    response = await post(client, "/auth/register", {"nickname": "carol", "email": "x" * 60_000})
    assert response.status_code == 422  # read and judged, not refused for its size


async def test_over_long_fields_are_not_echoed_in_full(client):
    response = await post(client, "/auth/register", {"nickname": "carol", "email": "e" * 60_000,
                                                     "password": "p" * 10, "password2": "p" * 10})
    assert response.status_code == 422
    page = await text_of(response)
    assert len(page) < 20_000
    assert "e" * 480 in page  # what a person could have typed is still there to correct


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..b", "bad host"])
async def test_a_host_that_is_no_host_name_is_a_bad_request(client, host, caplog):
    response = await client.get("/auth/login", headers={"Host": host})
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_normal_hosts_are_served(client):
    for host in ("localhost", "localhost:5000", "microblog.example.org", "192.168.1.20:8000", "[::1]:5000"):
        assert (await client.get("/auth/login", headers={"Host": host})).status_code == 200, host


async def test_a_form_that_is_not_utf8_is_a_bad_request(client):
    await client.get("/auth/login")
    response = await client.post("/auth/login", data="nickname=%FF%FE&password=x&csrf_token=y",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert "Your session has expired" not in await text_of(response)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_methods_a_page_does_not_have_are_405(client, method):
    response = await client.open("/explore", method=method)
    assert response.status_code == 405
    assert "That action is not available here." in await text_of(response)


async def test_personal_pages_are_private_and_vary_on_cookie(app, db, client):
    await make_user(db, "alice")
    await login(client, "alice")
    for url in ("/index", "/explore", "/user/alice", "/auth/login"):
        response = await client.get(url)
        assert response.headers["Cache-Control"] == "private, no-store", url
        assert "Cookie" in response.headers["Vary"], url
    response = await client.get("/static/app.css")
    assert "no-store" not in response.headers.get("Cache-Control", "")


async def test_hsts_is_sent_when_cookies_are_secure(database_url):
    from conftest import reset_schema
    await reset_schema(database_url)
    secure = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": True,
                         "QUART_AUTH_COOKIE_SECURE": True, "HSTS_SECONDS": 31536000})
    async with secure.test_app():
        response = await secure.test_client().get("/auth/login")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "HSTS_SECONDS": 0})
    async with plain.test_app():
        assert "Strict-Transport-Security" not in (await plain.test_client().get("/auth/login")).headers


def test_hsts_follows_secure_cookies_in_the_configuration(monkeypatch, tmp_path):
    from microblog.config import from_environment
    monkeypatch.delenv("SECURE_COOKIES", raising=False)
    monkeypatch.delenv("HSTS_SECONDS", raising=False)
    monkeypatch.setenv("MICROBLOG_DOTENV", str(tmp_path / "none.env"))
    assert from_environment(str(tmp_path))["HSTS_SECONDS"] == 31536000
    monkeypatch.setenv("SECURE_COOKIES", "0")
    assert from_environment(str(tmp_path))["HSTS_SECONDS"] == 0


async def test_following_any_text_does_not_echo_it(app, db, client):
    await make_user(db, "alice")
    await login(client, "alice")
    await client.get("/index")  # the welcome message, read
    sentence = "Your account is suspended, call 555-0100 " * 100
    response = await post(client, f"/follow/{sentence}")
    assert response.status_code == 303
    page = await text_of(await client.get(response.headers["Location"]))
    assert flashes(page) == ["User not found."]
    response = await post(client, "/follow/nobody_here")
    assert flashes(await text_of(await client.get(response.headers["Location"]))) == ["User nobody_here not found."]
