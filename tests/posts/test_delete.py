"""Deleting a post: asked first, only by its author, with and without JavaScript."""
import pytest
from sqlalchemy import select

from conftest import flashes, make_post, post, text_of
from helpers import HTMX, assert_varies, count, page_of, title, visible
from helpers import alice_client  # noqa: F401 (the fixture: logged in, welcome message read)
from microblog.posts import Post


@pytest.mark.parametrize("htmx", [False, True])
async def test_get_delete_asks_first_and_changes_nothing(db, alice_client, alice, htmx):
    mine = await make_post(db, alice, "to be or not")
    page = await page_of(alice_client, f"/delete/{mine.id}", htmx=htmx)
    assert title(page) == "Delete post - microblog"
    assert "Do you want to delete this post?" in visible(page)
    assert "to be or not" in visible(page)
    assert f'<form method="post" action="/post/{mine.id}/delete">' in page
    assert await count(db, select(Post)) == 1


@pytest.mark.parametrize("url", ["/delete/{id}", "/post/{id}/delete"])
async def test_delete_without_javascript(db, alice_client, alice, url):
    mine = await make_post(db, alice, "short-lived")
    response = await post(alice_client, url.format(id=mine.id))
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    assert_varies(response)
    page = await page_of(alice_client, "/index")
    assert flashes(page) == ["Your post has been deleted."]
    assert "short-lived" not in page
    assert await count(db, select(Post)) == 0


async def test_delete_goes_back_to_the_page_it_came_from(db, alice_client, alice):
    mine = await make_post(db, alice, "short-lived")
    response = await post(alice_client, f"/delete/{mine.id}", headers={"Referer": "http://localhost/user/alice"})
    assert response.headers["Location"] == "/user/alice"


async def test_delete_with_htmx(db, alice_client, alice):
    mine = await make_post(db, alice, "short-lived")
    response = await post(alice_client, f"/delete/{mine.id}", htmx=True)
    assert response.status_code == 200
    assert_varies(response)
    fragment = await text_of(response)
    assert "<html" not in fragment and "<article" not in fragment
    assert "Your post has been deleted." in visible(fragment)
    assert '<hx-partial hx-target="#flashes"' in fragment
    assert await count(db, select(Post)) == 0
    assert flashes(await page_of(alice_client, "/index")) == []


@pytest.mark.parametrize("htmx", [False, True])
async def test_only_the_author_may_delete(db, alice_client, bob, htmx):
    theirs = await make_post(db, bob, "bob's words")
    for url in (f"/delete/{theirs.id}", f"/post/{theirs.id}/delete"):
        response = await post(alice_client, url, htmx=htmx)
        assert response.status_code == 403
        assert_varies(response)
        assert "You are not allowed to do that." in await text_of(response)
    response = await alice_client.get(f"/delete/{theirs.id}", headers=HTMX if htmx else {})
    assert response.status_code == 403
    assert await count(db, select(Post)) == 1


async def test_delete_unknown_post(db, alice_client, alice):
    response = await post(alice_client, "/delete/999")
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    assert flashes(await page_of(alice_client, "/index")) == ["Post not found."]
    response = await post(alice_client, "/delete/999", htmx=True)
    assert response.status_code == 404
    assert "Post not found." in await text_of(response)
    assert "<p data-message>" in await text_of(response)  # the message app.js shows by the button
    # Deleting twice (two tabs): the second time the post is simply gone.
    mine = await make_post(db, alice, "once")
    assert (await post(alice_client, f"/delete/{mine.id}")).status_code == 303
    await alice_client.get("/index")  # read the flash
    assert (await post(alice_client, f"/delete/{mine.id}")).status_code == 303
    assert flashes(await page_of(alice_client, "/index")) == ["Post not found."]
