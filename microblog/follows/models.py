"""Who follows whom: the followers table and its rules."""
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Column, ForeignKey, Index, Integer, Select, Table, bindparam, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..accounts.models import User
from ..db import Base, UTCDateTime, insert_or_ignore, utcnow

followers = Table(
    "followers",
    Base.metadata,
    Column("follower_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("followed_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("timestamp", UTCDateTime(), nullable=False, default=utcnow),
    Index("ix_followers_followed_id_follower_id", "followed_id", "follower_id"),
)


@dataclass(frozen=True)
class FollowState:
    """What a follow box shows: the follower count, and whether the viewer is one of them."""

    followers: int
    followed_by_viewer: bool


class SelfFollow(ValueError):
    """Users cannot follow themselves."""


async def is_following(db: AsyncSession, user: User, other: User) -> bool:
    return await db.scalar(select(followers.c.follower_id).where(
        followers.c.follower_id == user.id, followers.c.followed_id == other.id)) is not None


async def follow(db: AsyncSession, user: User, other: User) -> bool:
    """`user` follows `other` (staged); False if already following. Two clicks at once are one
    follow: the second inserts nothing and raises nothing."""
    if other.id == user.id:
        raise SelfFollow("users cannot follow themselves")
    inserted = await db.execute(insert_or_ignore(db, followers).values(
        follower_id=user.id, followed_id=other.id, timestamp=utcnow()))
    if inserted.rowcount != 1:
        return False
    await events.followed.send(db, follower_id=user.id, followed_id=other.id)
    return True


async def unfollow(db: AsyncSession, user: User, other: User) -> bool:
    """`user` stops following `other` (staged); False if they were not following."""
    result = await db.execute(delete(followers).where(
        followers.c.follower_id == user.id, followers.c.followed_id == other.id))
    if result.rowcount == 0:
        return False
    await events.unfollowed.send(db, follower_id=user.id, followed_id=other.id)
    return True


async def follow_counts(db: AsyncSession, user: User) -> tuple[int, int]:
    """(followers, following), counted in the database in one statement."""
    follower_count, following_count, _ = await follow_summary(db, user, None)
    return follower_count, following_count


async def follow_summary(db: AsyncSession, user: User, viewer: User | None) -> tuple[int, int, bool]:
    """(followers, following, whether `viewer` follows `user`) in one statement: a profile's box."""
    other_viewer = viewer is not None and viewer.id != user.id
    row = (await db.execute(_follow_summary(other_viewer),
                            {"user": user.id, "viewer": viewer.id if other_viewer else None})).one()
    return row[0], row[1], bool(row[2])


@cache
def _follow_summary(other_viewer: bool) -> Select:
    user, viewer = bindparam("user"), bindparam("viewer")
    viewer_follows = (select(followers.c.follower_id).where(
        followers.c.follower_id == viewer, followers.c.followed_id == user).exists()
        if other_viewer else literal(False))
    return select(select(func.count()).where(followers.c.followed_id == user).scalar_subquery(),
                  select(func.count()).where(followers.c.follower_id == user).scalar_subquery(),
                  viewer_follows)


async def follow_states(db: AsyncSession, viewer: User | None, users: list[User]) -> dict[int, FollowState]:
    """Follower count and "does the viewer follow them" for many users, in two statements."""
    ids = [user.id for user in users]
    if not ids:
        return {}
    counts = dict((await db.execute(
        select(followers.c.followed_id, func.count())
        .where(followers.c.followed_id.in_(ids)).group_by(followers.c.followed_id))).all())
    followed: set[int] = set()
    if viewer is not None:
        followed = set(await db.scalars(select(followers.c.followed_id).where(
            followers.c.follower_id == viewer.id, followers.c.followed_id.in_(ids))))
    return {i: FollowState(counts.get(i, 0), i in followed) for i in ids}


def followed_ids(user_id: int) -> Select:
    """The ids of the users user `user_id` follows (a subquery for the home timeline)."""
    return select(followers.c.followed_id).where(followers.c.follower_id == user_id)


def followers_of(user: User) -> Select:
    """(User, since) rows of the people who follow `user`."""
    return (select(User, followers.c.timestamp)
            .join(followers, followers.c.follower_id == User.id)
            .where(followers.c.followed_id == user.id))


def followed_by(user: User) -> Select:
    """(User, since) rows of the people `user` follows."""
    return (select(User, followers.c.timestamp)
            .join(followers, followers.c.followed_id == User.id)
            .where(followers.c.follower_id == user.id))
