"""Timestamps (db.UTCDateTime) are stored as UTC and come back timezone-aware; naive ones are refused."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from conftest import follow, make_post, make_user
from helpers import fresh
from microblog.accounts import User
from microblog.db import utcnow
from microblog.follows.models import followers
from microblog.posts import Post


async def test_utc_datetime_comes_back_timezone_aware(app, db):
    john = await make_user(db, "john")
    susan = await make_user(db, "susan")
    # An aware time in another zone is stored as the same instant, to the microsecond.
    when = datetime(2024, 3, 1, 17, 30, 5, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    p = await make_post(db, john, "hello", when)
    john.last_seen = datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    await db.commit()
    await follow(db, john, susan)

    async with await fresh(app) as other:
        stored = await other.get(Post, p.id)
        assert stored.timestamp.tzinfo is not None
        assert stored.timestamp.utcoffset() == timedelta(0)
        assert stored.timestamp == when
        assert stored.timestamp == datetime(2024, 3, 1, 12, 0, 5, 123456, tzinfo=timezone.utc)
        seen = (await other.get(User, john.id)).last_seen
        assert seen == datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
        assert seen.utcoffset() == timedelta(0)
        followed_at = await other.scalar(select(followers.c.timestamp))
        assert followed_at.utcoffset() == timedelta(0)
        assert abs(utcnow() - followed_at) < timedelta(minutes=1)
        # Comparisons in SQL use the same instant.
        assert await other.scalar(select(Post.id).where(Post.timestamp == when)) == p.id
        assert await other.scalar(select(Post.id).where(
            Post.timestamp > when - timedelta(microseconds=1), Post.timestamp < when + timedelta(microseconds=1))) == p.id


async def test_naive_datetime_is_refused(app, db):
    john = await make_user(db, "john")
    with pytest.raises((ValueError, StatementError), match="naive"):
        await make_post(db, john, "hello", datetime(2024, 1, 1, 12, 0))
    await db.rollback()
    assert await db.scalar(select(func.count()).select_from(Post)) == 0
