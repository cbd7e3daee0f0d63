"""Two clicks at once are one action and a quiet success, never a 500 (SQLite and PostgreSQL):
following, unfollowing, deleting, and sending the same post form twice."""
import asyncio
import re
import warnings

import pytest
from sqlalchemy import func, select

from conftest import follow, login, make_post, make_user, post, text_of
from microblog.accounts import User
from microblog.follows.models import followers
from microblog.posts import Post


@pytest.fixture
async def alice_client(client, db):
    await make_user(db, "alice")
    assert (await login(client, "alice")).status_code == 303
    await client.get("/index")
    return client


async def count(db, query) -> int:
    return await db.scalar(select(func.count()).select_from(query.subquery()))


@pytest.mark.parametrize("htmx", [False, True])
async def test_double_clicking_follow_follows_once(alice_client, db, htmx):
    await make_user(db, "bob")
    answers = await asyncio.gather(*(post(alice_client, "/user/bob/follow", htmx=htmx) for _ in range(8)))
    assert [a.status_code for a in answers] == [200 if htmx else 303] * 8
    assert await count(db, select(followers)) == 1

    answers = await asyncio.gather(*(post(alice_client, "/user/bob/unfollow", htmx=htmx) for _ in range(8)))
    assert [a.status_code for a in answers] == [200 if htmx else 303] * 8
    assert await count(db, select(followers)) == 0


async def test_following_twice_and_unfollowing_a_stranger_are_quiet_successes(alice_client, db):
    bob = await make_user(db, "bob")
    alice = await User.by_nickname(db, "alice")
    await follow(db, alice, bob)
    response = await post(alice_client, "/user/bob/follow", htmx=True)
    assert response.status_code == 200 and "You are now following bob!" in await text_of(response)
    assert await count(db, select(followers)) == 1
    await make_user(db, "carol")
    response = await post(alice_client, "/user/carol/unfollow", htmx=True)
    assert response.status_code == 200 and "You are not following carol anymore." in await text_of(response)


async def test_deleting_a_post_twice_at_once_is_one_quiet_deletion(alice_client, db):
    alice = await User.by_nickname(db, "alice")
    mine = await make_post(db, alice, "to be deleted")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answers = await asyncio.gather(*(post(alice_client, f"/post/{mine.id}/delete", htmx=True)
                                         for _ in range(4)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses[0] == 200 and set(statuses) <= {200, 404}  # later clicks may find it gone
    assert not [w for w in caught if "expected to delete" in str(w.message)]
    assert await count(db, select(Post)) == 0


def form_submission(page: str) -> str:
    return re.search(r'name="submission"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="submission"',
                     page).group(1)


async def test_a_post_form_sent_twice_makes_one_post(alice_client, db):
    page = await text_of(await alice_client.get("/index"))
    token = form_submission(page)
    form = {"post": "said once", "submission": token}
    answers = await asyncio.gather(post(alice_client, "/index", form), post(alice_client, "/index", form))
    assert [a.status_code for a in answers] == [303, 303]
    assert await count(db, select(Post)) == 1
    # A fresh form is a new post, even with the same words.
    page = await text_of(await alice_client.get("/index"))
    assert form_submission(page) != token
    await post(alice_client, "/index", {"post": "said once", "submission": form_submission(page)})
    assert await count(db, select(Post)) == 2


async def test_an_htmx_post_retried_answers_as_the_first_time(alice_client, db):
    """A retry after a cut connection (the first answer never arrived) stores nothing new and
    gets the same post back, with a fresh form."""
    page = await text_of(await alice_client.get("/index"))
    token = form_submission(page)
    response = await post(alice_client, "/post", {"post": "hello", "submission": token}, htmx=True)
    fragment = await text_of(response)
    post_id = re.search(r'id="post-(\d+)"', fragment).group(1)
    assert "hello" in fragment and form_submission(fragment) != token
    again = await post(alice_client, "/post", {"post": "hello", "submission": token}, htmx=True)
    assert again.status_code == 200
    assert re.search(r'id="post-(\d+)"', await text_of(again)).group(1) == post_id
    assert await count(db, select(Post)) == 1


@pytest.mark.parametrize("text", ["\u200b\u200b\u200b", " \u200c\u200d\ufeff ", "\u3164\u2800", "\u2060"])
async def test_posts_that_show_nothing_are_refused(alice_client, db, text):
    response = await post(alice_client, "/post", {"post": text})
    assert response.status_code == 422
    assert "Please write something first." in await text_of(response)
    assert await count(db, select(Post)) == 0


async def test_posts_with_something_visible_are_kept(alice_client, db):
    for text in ("\u200bhi", "👍", "·"):
        assert (await post(alice_client, "/post", {"post": text})).status_code == 303
    assert await count(db, select(Post)) == 3
