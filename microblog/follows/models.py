"""Who follows whom: the followers table and its rules, and follow requests: following someone
who must agree first (for now, everyone elsewhere: their server answers Accept or Reject) is a
request until they do, shown as "Requested"."""
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

follow_requests = Table(
    "follow_request",
    Base.metadata,
    Column("follower_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("followed_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("timestamp", UTCDateTime(), nullable=False, default=utcnow),
)


@dataclass(frozen=True)
class FollowState:
    """What a follow box shows: the follower count, whether the viewer is one of them, and
    whether the viewer asked to be and waits for an answer."""

    followers: int
    followed_by_viewer: bool
    requested_by_viewer: bool = False


class SelfFollow(ValueError):
    """Users cannot follow themselves."""


class FollowRefused(ValueError):
    """A follow that may not be while something stands between the two (a block, a hidden or
    blocked server: events.follow_refused); `str(refusal)` says what, in a sentence."""


async def check_may_follow(db: AsyncSession, user: User, other: User) -> None:
    """SelfFollow or FollowRefused, if `user` may not follow `other` (nor ask to)."""
    if other.id == user.id:
        raise SelfFollow("users cannot follow themselves")
    reasons = await events.follow_refused.answers(db, follower_id=user.id, followed_id=other.id)
    if reasons:
        raise FollowRefused(reasons[0])


async def is_following(db: AsyncSession, user: User, other: User) -> bool:
    return await db.scalar(select(followers.c.follower_id).where(
        followers.c.follower_id == user.id, followers.c.followed_id == other.id)) is not None


async def follow(db: AsyncSession, user: User, other: User) -> bool:
    """`user` follows `other` (staged); False if already following. Two clicks at once are one
    follow: the second inserts nothing and raises nothing. SelfFollow, FollowRefused."""
    await check_may_follow(db, user, other)
    inserted = await db.execute(insert_or_ignore(db, followers).values(
        follower_id=user.id, followed_id=other.id, timestamp=utcnow()))
    if inserted.rowcount != 1:
        return False
    await events.followed.send(db, follower_id=user.id, followed_id=other.id)
    return True


def needs_approval(other: User) -> bool:
    """Whether following `other` waits for their agreement: someone elsewhere (their server
    answers, even when it agrees at once)."""
    return not other.is_local


async def follow_or_request(db: AsyncSession, user: User, other: User) -> bool:
    """`user` follows `other`, or asks to if `other` must agree (staged); False if nothing was
    new (already following, or already asked: two clicks are one request)."""
    if not needs_approval(other):
        return await follow(db, user, other)
    await check_may_follow(db, user, other)
    if await is_following(db, user, other):
        return False
    inserted = await db.execute(insert_or_ignore(db, follow_requests).values(
        follower_id=user.id, followed_id=other.id, timestamp=utcnow()))
    if inserted.rowcount != 1:
        return False
    await events.follow_requested.send(db, follower_id=user.id, followed_id=other.id)
    return True


async def _drop_request(db: AsyncSession, follower: User, followed: User) -> bool:
    """`follower`'s request to follow `followed` is no more (staged); whether there was one."""
    return (await db.execute(delete(follow_requests).where(
        follow_requests.c.follower_id == follower.id, follow_requests.c.followed_id == followed.id))).rowcount > 0


async def answer_request(db: AsyncSession, follower: User, followed: User, accepted: bool) -> bool:
    """`followed` accepted `follower`'s request (a follow now), or rejected it (no request, and no
    follow either: a follow they end is ended). False if there was nothing to answer."""
    asked = await _drop_request(db, follower, followed)
    if accepted:
        try:
            return asked and await follow(db, follower, followed)
        except FollowRefused:
            return False  # a block came between the request and its answer: no follow
    return await unfollow(db, follower, followed) or asked


async def withdraw(db: AsyncSession, user: User, other: User) -> str | None:
    """`user` takes back their request to follow `other`, or stops following them (staged):
    "request" or "follow", whichever it was, or None if neither."""
    cancelled = await _drop_request(db, user, other)
    if cancelled:
        await events.follow_request_withdrawn.send(db, follower_id=user.id, followed_id=other.id)
        return "request"
    return "follow" if await unfollow(db, user, other) else None


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
    state, following_count = await follow_summary(db, user, None)
    return state.followers, following_count


async def follow_summary(db: AsyncSession, user: User, viewer: User | None) -> tuple[FollowState, int]:
    """`user`'s follow box as `viewer` sees it, and how many `user` follows, in one statement."""
    other_viewer = viewer is not None and viewer.id != user.id
    row = (await db.execute(_follow_summary(other_viewer),
                            {"user": user.id, "viewer": viewer.id if other_viewer else None})).one()
    return FollowState(row[0], bool(row[2]), bool(row[3])), row[1]


@cache
def _follow_summary(other_viewer: bool) -> Select:
    user, viewer = bindparam("user"), bindparam("viewer")
    viewer_follows, viewer_asked = ((
        select(followers.c.follower_id).where(followers.c.follower_id == viewer, followers.c.followed_id == user).exists(),
        select(follow_requests.c.follower_id).where(follow_requests.c.follower_id == viewer,
                                                    follow_requests.c.followed_id == user).exists())
        if other_viewer else (literal(False), literal(False)))
    return select(select(func.count()).where(followers.c.followed_id == user).scalar_subquery(),
                  select(func.count()).where(followers.c.follower_id == user).scalar_subquery(),
                  viewer_follows, viewer_asked)


async def follow_states(db: AsyncSession, viewer: User | None, users: list[User]) -> dict[int, FollowState]:
    """Follower count and "does the viewer follow them (or ask to)" for many users, in two or
    three statements."""
    ids = [user.id for user in users]
    if not ids:
        return {}
    counts = dict((await db.execute(
        select(followers.c.followed_id, func.count())
        .where(followers.c.followed_id.in_(ids)).group_by(followers.c.followed_id))).all())
    followed: set[int] = set()
    asked: set[int] = set()
    if viewer is not None:
        followed = set(await db.scalars(select(followers.c.followed_id).where(
            followers.c.follower_id == viewer.id, followers.c.followed_id.in_(ids))))
        if any(needs_approval(user) for user in users):
            asked = set(await db.scalars(select(follow_requests.c.followed_id).where(
                follow_requests.c.follower_id == viewer.id, follow_requests.c.followed_id.in_(ids))))
    return {i: FollowState(counts.get(i, 0), i in followed, i in asked) for i in ids}


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
