"""Following and unfollowing: with htmx (the box and the announcement), without JavaScript, and the
odd cases (twice, oneself, nobody)."""
import re

import pytest
from sqlalchemy import select

from conftest import flashes, follow, post, text_of
from helpers import assert_varies, count, page_of, split_partial, title, visible
from helpers import alice_client  # noqa: F401 (the fixture: logged in, welcome message read)
from microblog.accounts import User
from microblog.follows.models import followers


async def is_following(db, follower: User, followed: User) -> bool:
    """Read from the followers table itself, not through the model."""
    return await db.scalar(select(followers.c.follower_id).where(
        followers.c.follower_id == follower.id, followers.c.followed_id == followed.id)) is not None


async def test_follow_and_unfollow_with_htmx(db, alice_client, alice, bob):
    response = await post(alice_client, "/follow/bob", htmx=True)
    assert response.status_code == 200
    assert_varies(response)
    box, announced = split_partial(await text_of(response))
    assert box.lstrip().startswith('<div class="follow-box')
    assert "<html" not in box and "alert" not in box
    assert "1 follower" in visible(box)
    assert 'action="/user/bob/unfollow"' in box and 'hx-post="/user/bob/unfollow"' in box
    assert "Unfollow" in visible(box)
    assert "autofocus" in box  # focus stays on the (new) button
    assert "You are now following bob!" in visible(announced)  # the live region reads it out
    assert await is_following(db, alice, bob)

    response = await post(alice_client, "/unfollow/bob", htmx=True)
    assert response.status_code == 200
    box, announced = split_partial(await text_of(response))
    assert box.lstrip().startswith('<div class="follow-box')
    assert "0 followers" in visible(box)
    assert 'action="/user/bob/follow"' in box
    assert "Unfollow" not in visible(box)
    assert "You are not following bob anymore." in visible(announced)
    assert not await is_following(db, alice, bob)
    # Nothing left over for the next page.
    assert flashes(await page_of(alice_client, "/user/bob")) == []


async def test_follow_and_unfollow_without_javascript(db, alice_client, alice, bob):
    response = await post(alice_client, "/follow/bob")
    assert response.status_code == 303
    assert response.headers["Location"] == "/user/bob"
    assert_varies(response)
    page = await page_of(alice_client, "/user/bob")
    assert flashes(page) == ["You are now following bob!"]
    assert "1 follower" in visible(page)
    assert 'action="/user/bob/unfollow"' in page
    assert await is_following(db, alice, bob)
    assert "Following 1 user" in visible(await page_of(alice_client, "/user/alice"))

    response = await post(alice_client, "/unfollow/bob")
    assert response.status_code == 303
    page = await page_of(alice_client, "/user/bob")
    assert flashes(page) == ["You are not following bob anymore."]
    assert "0 followers" in visible(page)
    assert 'action="/user/bob/follow"' in page
    assert not await is_following(db, alice, bob)


async def test_follow_goes_back_to_the_page_it_came_from(alice_client, bob):
    response = await post(alice_client, "/follow/bob", headers={"Referer": "http://localhost/explore"})
    assert response.headers["Location"] == "/explore"
    response = await post(alice_client, "/unfollow/bob?next=/user/bob/followers")
    assert response.headers["Location"] == "/user/bob/followers"
    # Never somewhere else.
    response = await post(alice_client, "/follow/bob?next=https://evil.example/",
                          headers={"Referer": "https://evil.example/page"})
    assert response.headers["Location"] == "/user/bob"


async def test_following_twice_is_harmless(db, alice_client, alice, bob):
    for _ in range(2):
        response = await post(alice_client, "/follow/BOB")
        assert response.status_code == 303
        assert flashes(await page_of(alice_client, "/user/bob")) == ["You are now following bob!"]
    response = await post(alice_client, "/follow/bob", htmx=True)
    assert "1 follower" in visible(await text_of(response))
    assert await count(db, select(followers)) == 1
    for _ in range(2):
        assert (await post(alice_client, "/unfollow/bob")).status_code == 303
    assert await count(db, select(followers)) == 0


async def test_cannot_follow_oneself(db, alice_client, alice):
    response = await post(alice_client, "/follow/alice")
    assert response.status_code == 303
    assert response.headers["Location"] == "/user/alice"
    assert flashes(await page_of(alice_client, "/user/alice")) == ["You cannot follow yourself!"]
    response = await post(alice_client, "/follow/alice", htmx=True)
    assert response.status_code == 400
    assert_varies(response)
    assert "You cannot follow yourself!" in await text_of(response)
    assert "<p data-message>" in await text_of(response)  # the message app.js shows by the button
    assert await count(db, select(followers)) == 0
    page = await page_of(alice_client, "/user/alice")
    assert "/user/alice/follow\"" not in page  # no button for oneself
    assert "Edit your profile" in page


@pytest.mark.parametrize("action", ["follow", "unfollow"])
async def test_follow_unknown_user(db, alice_client, action):
    response = await post(alice_client, f"/{action}/nobody")
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    assert flashes(await page_of(alice_client, "/index")) == ["User nobody not found."]
    response = await post(alice_client, f"/{action}/nobody", htmx=True)
    assert response.status_code == 404
    assert "User nobody not found." in await text_of(response)
    response = await alice_client.get(f"/{action}/nobody")
    assert response.status_code == 303
    assert flashes(await page_of(alice_client, "/index")) == ["User nobody not found."]


async def test_follow_unknown_user_name_is_escaped(alice_client):
    response = await post(alice_client, "/follow/<b>x")
    assert response.status_code == 303
    page = await page_of(alice_client, "/index")
    assert "<b>x" not in page
    assert flashes(page) == ["User not found."]  # text that cannot be a nickname is not echoed


@pytest.mark.parametrize("htmx", [False, True])
async def test_get_follow_asks_first_and_changes_nothing(db, alice_client, alice, bob, htmx):
    page = await page_of(alice_client, "/follow/bob", htmx=htmx)
    assert title(page) == "Follow bob - microblog"
    assert "Do you want to follow bob?" in visible(page)
    assert re.search(r'<form method="post" action="/user/bob/follow">', page)
    assert 'name="csrf_token"' in page
    assert not await is_following(db, alice, bob)

    await follow(db, alice, bob)
    page = await page_of(alice_client, "/unfollow/bob", htmx=htmx)
    assert title(page) == "Unfollow bob - microblog"
    assert "Do you want to stop following bob?" in visible(page)
    assert re.search(r'<form method="post" action="/user/bob/unfollow">', page)
    assert await is_following(db, alice, bob)
