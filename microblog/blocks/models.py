"""What a person here keeps away from themselves: accounts they block (here or elsewhere), and
servers they hide (every account there, as Mastodon's "block domain" for one person).

The rule that keeps this cheap: nobody follows anyone they block or whose server they hide, and
nobody they block or whose server they hide follows them. A block ends the follows (and follow
requests) both ways and refuses new ones (events.follow_refused, asked by follows.models), so the
home timeline, which shows only what one follows, needs no filter at all. The lists that show
others' posts (explore, search, profiles) carry `not_hidden`, two NOT EXISTS that primary keys
answer, and only for a reader whose `has_blocks` is set: loaded with the log-in session, it costs
everyone else nothing."""
from dataclasses import dataclass

from sqlalchemy import Column, ColumnElement, exists, ForeignKey, Index, Integer, String, Table, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..accounts.models import DOMAIN_MAX, LocalUser, User
from ..db import Base, UTCDateTime, insert_or_ignore, utcnow
from ..follows.models import follow_requests, followers, withdraw
from ..i18n import lazy_gettext as _l
from ..posts.models import Post

account_blocks = Table(
    "account_block",
    Base.metadata,
    Column("blocker_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("blocked_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("timestamp", UTCDateTime(), nullable=False, default=utcnow),
    Index("ix_account_block_blocked_id_blocker_id", "blocked_id", "blocker_id"),  # who blocks someone
)

hidden_domains = Table(
    "hidden_domain",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("domain", String(DOMAIN_MAX), primary_key=True),  # as User.domain names a server
    Column("timestamp", UTCDateTime(), nullable=False, default=utcnow),
)


class SelfBlock(ValueError):
    """Nobody blocks themselves, nor hides their own server."""


@dataclass(frozen=True)
class BlockState:
    """What the block box on a profile shows: whether the viewer blocks them, hides their server."""

    blocked: bool = False
    hidden: bool = False


async def _changing(db: AsyncSession, user: User) -> None:
    """One change at a time to a person's blocks (their local row locked: PostgreSQL and MariaDB;
    SQLite has one writer anyway), so `has_blocks` is right whatever two clicks do."""
    if db.bind.dialect.name != "sqlite":
        await db.execute(select(LocalUser.user_id).where(LocalUser.user_id == user.id).with_for_update())


async def _recount(db: AsyncSession, user: User) -> None:
    user.has_blocks = bool(await db.scalar(select(or_(
        select(account_blocks.c.blocked_id).where(account_blocks.c.blocker_id == user.id).exists(),
        select(hidden_domains.c.domain).where(hidden_domains.c.user_id == user.id).exists()))))


async def _part_ways(db: AsyncSession, user: User, other: User) -> None:
    """No follow nor request between the two any more, either way (each with its event: an Undo
    of a Follow sent elsewhere goes out)."""
    await withdraw(db, user, other)
    await withdraw(db, other, user)


async def block(db: AsyncSession, user: User, other: User) -> bool:
    """`user` blocks `other` (staged); False if they already did (two clicks are one block)."""
    if other.id == user.id:
        raise SelfBlock("nobody blocks themselves")
    await _changing(db, user)
    inserted = await db.execute(insert_or_ignore(db, account_blocks).values(
        blocker_id=user.id, blocked_id=other.id, timestamp=utcnow()))
    if inserted.rowcount != 1:
        return False
    user.has_blocks = True
    await _part_ways(db, user, other)
    await events.blocked.send(db, blocker_id=user.id, blocked_id=other.id)
    return True


async def unblock(db: AsyncSession, user: User, other: User) -> bool:
    """`user` stops blocking `other` (staged); False if they did not block them."""
    await _changing(db, user)
    deleted = await db.execute(delete(account_blocks).where(
        account_blocks.c.blocker_id == user.id, account_blocks.c.blocked_id == other.id))
    if deleted.rowcount == 0:
        return False
    await _recount(db, user)
    await events.unblocked.send(db, blocker_id=user.id, blocked_id=other.id)
    return True


async def hide_domain(db: AsyncSession, user: User, domain: str) -> bool:
    """`user` hides everything from the server `domain` (staged): their follows of people there
    end (an Undo each), people there who follow them are removed. False if already hidden."""
    if not domain or domain == user.domain:
        raise SelfBlock("nobody hides their own server")
    await _changing(db, user)
    inserted = await db.execute(insert_or_ignore(db, hidden_domains).values(
        user_id=user.id, domain=domain, timestamp=utcnow()))
    if inserted.rowcount != 1:
        return False
    user.has_blocks = True
    linked = or_(*(select(table.c.follower_id).where(
        or_(and_(table.c.follower_id == user.id, table.c.followed_id == User.id),
            and_(table.c.followed_id == user.id, table.c.follower_id == User.id))).exists()
        for table in (followers, follow_requests)))
    for other in await db.scalars(select(User).where(User.domain == domain, linked)):
        await _part_ways(db, user, other)
    return True


async def show_domain(db: AsyncSession, user: User, domain: str) -> bool:
    """`user` sees the server `domain` again (staged); False if it was not hidden."""
    await _changing(db, user)
    deleted = await db.execute(delete(hidden_domains).where(
        hidden_domains.c.user_id == user.id, hidden_domains.c.domain == domain))
    if deleted.rowcount == 0:
        return False
    await _recount(db, user)
    return True


async def block_state(db: AsyncSession, viewer: User | None, user: User) -> BlockState | None:
    """The block box of `user`'s profile for `viewer`: None for a visitor or one's own profile;
    no query for someone who blocks no one and hides nothing."""
    if viewer is None or viewer.id == user.id:
        return None
    if not viewer.has_blocks:
        return BlockState()
    row = (await db.execute(select(
        select(account_blocks.c.blocked_id).where(account_blocks.c.blocker_id == viewer.id,
                                                  account_blocks.c.blocked_id == user.id).exists(),
        select(hidden_domains.c.domain).where(hidden_domains.c.user_id == viewer.id,
                                              hidden_domains.c.domain == user.domain).exists()))).one()
    return BlockState(bool(row[0]), bool(row[1]))


async def why_no_follow(db: AsyncSession, follower_id: int, followed_id: int) -> str | None:
    """A block either way, or a server either hides (listens to events.follow_refused; a lazy
    sentence: a job asks too, where no one reads it). Only
    people here block or hide: when neither of the two does, nothing is asked of the database."""
    follower, followed = await db.get(User, follower_id), await db.get(User, followed_id)  # loaded already
    if follower is None or followed is None or not (follower.has_blocks or followed.has_blocks):
        return None

    def blocks(a: User, b: User) -> ColumnElement:
        return select(account_blocks.c.blocked_id).where(account_blocks.c.blocker_id == a.id,
                                                         account_blocks.c.blocked_id == b.id).exists()

    def hides(a: User, b: User) -> ColumnElement:
        return select(hidden_domains.c.domain).where(hidden_domains.c.user_id == a.id,
                                                     hidden_domains.c.domain == b.domain).exists()
    blocking, blocked, hiding, hidden = (await db.execute(select(
        blocks(follower, followed), blocks(followed, follower), hides(follower, followed),
        hides(followed, follower)))).one()
    if blocking:
        return _l("You have blocked %(nickname)s. Unblock them first to follow them.", nickname=followed.handle)
    if hiding:
        return _l("You have hidden everything from %(host)s. Show it again first to follow someone there.",
                 host=followed.domain)
    if blocked or hidden:
        return _l("You cannot follow %(nickname)s: they have blocked you.", nickname=followed.handle)
    return None


def not_hidden(reader_id: int) -> ColumnElement:
    """Posts but those of accounts `reader_id` blocks and of servers they hide (listens to
    events.hidden_posts): two NOT EXISTS, each one look in a primary key per post."""
    blocked = (select(account_blocks.c.blocked_id)
               .where(account_blocks.c.blocker_id == reader_id, account_blocks.c.blocked_id == Post.user_id)
               .correlate(Post).exists())
    author = User.__table__.alias("hidden_author")
    hidden = (select(hidden_domains.c.domain).join(author, author.c.domain == hidden_domains.c.domain)
              .where(hidden_domains.c.user_id == reader_id, author.c.id == Post.user_id)
              .correlate(Post).exists())
    return and_(~blocked, ~hidden)


def hidden_posts_filter():
    """blocks' answer to events.hidden_posts."""
    return not_hidden


def kept_by_blocks():
    """blocks' answer to events.people_kept: someone blocked, or who blocks, is still needed (the
    block would go with them, and they could follow again)."""
    return lambda user_id: exists().where(or_(account_blocks.c.blocker_id == user_id,
                                              account_blocks.c.blocked_id == user_id))


async def blocked_accounts(db: AsyncSession, user: User) -> list[User]:
    return list(await db.scalars(select(User).join(account_blocks, account_blocks.c.blocked_id == User.id)
                                 .where(account_blocks.c.blocker_id == user.id)
                                 .order_by(account_blocks.c.timestamp.desc())))


async def hidden_servers(db: AsyncSession, user: User) -> list[str]:
    return list(await db.scalars(select(hidden_domains.c.domain).where(hidden_domains.c.user_id == user.id)
                                 .order_by(hidden_domains.c.domain)))
