"""Follows in the model: one way, never oneself, counted, and only between existing users."""
import pytest
from sqlalchemy import insert

from conftest import follow, make_user, unfollow
from helpers import follow_rows, fresh
from microblog.accounts import User
from microblog.db import utcnow
from microblog.follows import follow_counts, follow_states, is_following
from microblog.follows.models import followers


async def test_follow_unfollow_and_is_following(app, db):
    john = await make_user(db, "john")
    susan = await make_user(db, "susan")
    assert not await is_following(db, john, susan)
    assert not await is_following(db, susan, john)

    assert await follow(db, john, susan) is True
    assert await is_following(db, john, susan)
    assert not await is_following(db, susan, john)  # following is one way
    assert await follow_rows(db) == {(john.id, susan.id)}

    # Following twice is harmless: no error, no second row.
    assert await follow(db, john, susan) is False
    assert await is_following(db, john, susan)
    assert await follow_rows(db) == {(john.id, susan.id)}

    # Another session (another request) sees the follow.
    async with await fresh(app) as other:
        assert await is_following(other, await other.get(User, john.id), await other.get(User, susan.id))

    assert await unfollow(db, john, susan) is True
    assert not await is_following(db, john, susan)
    assert await follow_rows(db) == set()
    # Unfollowing someone not followed is harmless too.
    assert await unfollow(db, john, susan) is False
    assert await follow_rows(db) == set()


async def test_self_follow_raises_and_stores_nothing(app, db):
    john = await make_user(db, "john")
    with pytest.raises(ValueError):
        await follow(db, john, john)
    assert not await is_following(db, john, john)
    assert await follow_rows(db) == set()
    assert await follow_counts(db, john) == (0, 0)


async def test_follow_counts(app, db):
    john, susan, mary, david = [await make_user(db, n) for n in ("john", "susan", "mary", "david")]
    for user in (john, susan, mary, david):
        assert await follow_counts(db, user) == (0, 0)
    await follow(db, john, susan)
    await follow(db, mary, susan)
    await follow(db, david, susan)
    await follow(db, susan, john)
    await follow(db, john, mary)
    # (followers, following)
    assert await follow_counts(db, susan) == (3, 1)
    assert await follow_counts(db, john) == (1, 2)
    assert await follow_counts(db, mary) == (1, 1)
    assert await follow_counts(db, david) == (0, 1)
    await unfollow(db, mary, susan)
    assert await follow_counts(db, susan) == (2, 1)
    assert await follow_counts(db, mary) == (1, 0)


async def test_follow_states_counts_and_viewer(app, db):
    john, susan, mary = [await make_user(db, n) for n in ("john", "susan", "mary")]
    await follow(db, john, susan)
    await follow(db, mary, susan)
    states = await follow_states(db, john, [susan, mary, john])
    assert states[susan.id].followers == 2 and states[susan.id].followed_by_viewer
    assert states[mary.id].followers == 0 and not states[mary.id].followed_by_viewer
    assert states[john.id].followers == 0 and not states[john.id].followed_by_viewer
    visitor = await follow_states(db, None, [susan])
    assert visitor[susan.id].followers == 2 and not visitor[susan.id].followed_by_viewer
    assert await follow_states(db, john, []) == {}


async def test_follow_rows_need_existing_users(app, db):
    john = await make_user(db, "john")
    with pytest.raises(Exception):
        await db.execute(insert(followers).values(follower_id=john.id, followed_id=john.id + 1000,
                                                  timestamp=utcnow()))
        await db.commit()
    await db.rollback()
    assert await follow_rows(db) == set()
