"""Writing a post, with and without JavaScript: what is saved, what is refused, what is escaped."""
import pytest
from sqlalchemy import select

from conftest import flashes, make_post, make_user, post, text_of
from helpers import (assert_varies, count, field_errors, hx_partial, page_of, post_ids, textarea_value,
                     title, visible)
from helpers import alice_client  # noqa: F401 (the fixture: logged in, welcome message read)
from microblog.posts import Post


@pytest.mark.parametrize("url", ["/post", "/", "/index"])
async def test_post_without_javascript(db, alice_client, url):
    response = await post(alice_client, url, {"post": "  my first post  "})
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    assert_varies(response)
    page = await page_of(alice_client, "/index")
    assert flashes(page) == ["Your post is now live!"]
    assert "alice @alice ·" in visible(page)
    assert await db.scalar(select(Post.body)) == "my first post"  # surrounding spaces dropped
    assert textarea_value(page, "post") == ""


@pytest.mark.parametrize("url", ["/post", "/"])
async def test_post_with_htmx(db, alice_client, url):
    response = await post(alice_client, url, {"post": "posted with htmx"}, htmx=True)
    assert response.status_code == 200
    assert_varies(response)
    fragment = await text_of(response)
    assert "<html" not in fragment and "<nav" not in fragment
    saved = await db.scalar(select(Post))
    assert saved.body == "posted with htmx"
    assert post_ids(fragment) == [saved.id]
    assert "alice @alice ·" in visible(fragment)
    # A fresh, empty form replaces the one just sent.
    partial = hx_partial(fragment, "#post-form")
    assert partial is not None and partial.get("hx-swap") == "outerHTML"
    assert 'id="post-form"' in partial.inner_html
    assert textarea_value(partial.inner_html, "post") == ""
    assert 'name="csrf_token"' in partial.inner_html
    assert "is-invalid" not in partial.inner_html
    # The flash is not waiting for the next page either.
    assert flashes(await page_of(alice_client, "/index")) == []


@pytest.mark.parametrize("body, message", [
    ("", "Please write something first."),
    ("   \n\t  ", "Please write something first."),
    ("x" * 141, "Posts are at most 140 characters."),
])
async def test_post_refused_keeps_the_text(db, alice_client, body, message):
    response = await post(alice_client, "/post", {"post": body})
    assert response.status_code == 422
    assert_varies(response)
    page = await text_of(response)
    assert title(page) == "Home - microblog"
    assert field_errors(page, "post") == [message]
    assert textarea_value(page, "post") == body.strip()
    assert await count(db, select(Post)) == 0

    response = await post(alice_client, "/post", {"post": body}, htmx=True)
    assert response.status_code == 422
    assert_varies(response)
    assert response.headers["HX-Retarget"] == "#post-form"
    assert response.headers["HX-Reswap"] == "outerHTML"
    fragment = await text_of(response)
    assert fragment.lstrip().startswith('<form id="post-form"')
    assert field_errors(fragment, "post") == [message]
    assert textarea_value(fragment, "post") == body.strip()
    assert await count(db, select(Post)) == 0


async def test_post_of_exactly_140_characters_is_fine(db, alice_client):
    body = "y" * 140
    response = await post(alice_client, "/post", {"post": body})
    assert response.status_code == 303
    response = await post(alice_client, "/post", {"post": body}, htmx=True)
    assert response.status_code == 200
    assert list(await db.scalars(select(Post.body))) == [body, body]


async def test_post_text_is_escaped(db, alice_client):
    evil = "<script>alert('x')</script>"
    fragment = await text_of(await post(alice_client, "/post", {"post": evil}, htmx=True))
    for page in (fragment, await page_of(alice_client, "/explore"), await page_of(alice_client, "/user/alice")):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(" in page
        assert evil in visible(page)


async def test_nickname_is_escaped_in_posts(app, db, client):
    # Registration refuses such a name; an old database might still hold one.
    eve = await make_user(db, "<i>eve</i>", email="eve@example.com")
    await make_post(db, eve, "hi")
    page = await page_of(client, "/explore")
    assert "<i>eve</i>" not in page
    assert "&lt;i&gt;eve&lt;/i&gt;" in page
    assert "<i>eve</i> @<i>eve</i> ·" in visible(page)
