"""CSRF on every form and htmx request, and the security headers (CSP without inline scripts)."""
import re

import pytest
from sqlalchemy import select

from conftest import make_post, post, text_of
from helpers import CSRF_MESSAGE, HTMX, count, input_value, page_of, title
from helpers import alice_client  # noqa: F401 (the fixture: logged in, welcome message read)
from microblog.accounts import User
from microblog.follows.models import followers
from microblog.posts import Post


# --- CSRF -------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/post", "/", "/follow/bob", "/unfollow/bob", "/delete/1", "/edit_profile"])
async def test_post_without_csrf_token_is_refused(db, alice_client, alice, bob, url):
    mine = await make_post(db, alice, "still here")
    assert mine.id == 1
    for form in ({"post": "forged", "nickname": "mallory"},
                 {"post": "forged", "nickname": "mallory", "csrf_token": "wrong"}):
        response = await alice_client.post(url, form=form)
        assert response.status_code == 400
        page = await text_of(response)
        assert CSRF_MESSAGE in page
        assert title(page) == "Bad request - microblog"
    response = await alice_client.post(url, form={"post": "forged"}, headers={**HTMX, "X-CSRFToken": "wrong"})
    assert response.status_code == 400
    assert "<p data-message>" in await text_of(response)  # the message app.js shows by the button
    assert CSRF_MESSAGE in await text_of(response)
    assert list(await db.scalars(select(Post.body))) == ["still here"]
    assert await count(db, select(followers)) == 0
    assert await db.scalar(select(User.nickname).where(User.id == alice.id)) == "alice"


async def test_htmx_post_with_token_in_header_is_accepted(db, alice_client):
    response = await post(alice_client, "/post", {"post": "via header"}, htmx=True)
    assert response.status_code == 200
    assert await db.scalar(select(Post.body)) == "via header"


async def test_pages_carry_the_token_for_forms_and_htmx(alice_client, bob):
    page = await page_of(alice_client, "/user/bob")
    token = input_value(page, "csrf_token")
    assert f'hx-headers:inherited=\'{{"X-CSRFToken": "{token}"}}\'' in page
    # The token from the page works, as a form field and as a header.
    response = await alice_client.post("/follow/bob", form={"csrf_token": token})
    assert response.status_code == 303
    response = await alice_client.post("/unfollow/bob", headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 200


# --- security headers -------------------------------------------------------------------------

async def test_security_headers_on_every_kind_of_response(db, alice_client, bob):
    responses = [
        await alice_client.get("/index"),
        await alice_client.get("/explore", headers=HTMX),
        await alice_client.get("/user/nobody"),
        await alice_client.get("/user/nobody", headers=HTMX),
        await post(alice_client, "/follow/bob"),
        await post(alice_client, "/unfollow/bob", htmx=True),
        await post(alice_client, "/post", {"post": ""}, htmx=True),
        await alice_client.post("/post", form={"post": "no token"}),
        await alice_client.get("/login"),
    ]
    for response in responses:
        csp = response.headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'self'",
                          "frame-ancestors 'none'"):
            assert directive in [d.strip() for d in csp.split(";")], (response.status_code, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


async def test_pages_use_no_inline_scripts(alice_client, bob):
    # script-src 'self' would block them.
    for url in ("/index", "/explore", "/user/bob", "/edit_profile"):
        page = await page_of(alice_client, url)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], url
        assert not re.search(r"\son(click|load|submit|change)=", page), url
