"""Users, posts and follows, with the rules that govern them."""
import asyncio
import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from quart import current_app
from sqlalchemy import (
    Column, DateTime, ForeignKey, Index, Integer, MetaData, Select, String, Table, TypeDecorator,
    case, delete, func, insert, literal, or_, select, update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship

from .language import detect_language

NICKNAME_MAX = 64
EMAIL_MAX = 120
ABOUT_ME_MAX = 140
POST_MAX = 140
# Letters, digits, "." and "_", with at least one letter or digit ("." and ".." are not names:
# browsers would turn /user/.. into /).
NICKNAME_PATTERN = re.compile(r"(?=.*[A-Za-z0-9])[A-Za-z0-9._]+")


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stored in UTC; always timezone-aware in Python (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class AccountConflict(Exception):
    """A nickname or email that someone else already has (checked, or lost in a race)."""

    def __init__(self, nickname: bool = False, email: bool = False):
        super().__init__(f"taken: nickname={nickname} email={email}")
        self.nickname = nickname
        self.email = email


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


followers = Table(
    "followers",
    Base.metadata,
    Column("follower_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("followed_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("timestamp", UTCDateTime(), nullable=False, default=utcnow),
    Index("ix_followers_followed_id_follower_id", "followed_id", "follower_id"),
)


_hasher_cache: dict[tuple[int, int], PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    key = (current_app.config["PASSWORD_HASH_TIME_COST"], current_app.config["PASSWORD_HASH_MEMORY_COST"])
    if key not in _hasher_cache:
        _hasher_cache[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return _hasher_cache[key]


async def hash_password(password: str) -> str:
    # Argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    if password_hash is None:
        # Spend the same time as a real check so timing does not reveal unknown users.
        await asyncio.to_thread(hasher.hash, password)
        return False
    try:
        return await asyncio.to_thread(hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    nickname: Mapped[str] = mapped_column(String(NICKNAME_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    about_me: Mapped[str | None] = mapped_column(String(ABOUT_ME_MAX))
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))

    posts: Mapped[list["Post"]] = relationship(back_populates="author", lazy="raise",
                                               passive_deletes=True)

    def __repr__(self) -> str:
        return f"<User {self.nickname}>"

    @property
    def password_fingerprint(self) -> str:
        """Changes with the password: reset links and log-in cookies made before stop working."""
        return hashlib.sha256((self.password_hash or "").encode()).hexdigest()[:16]

    @property
    def auth_id(self) -> str:
        """What the log-in cookie holds: the user, and the password they logged in with."""
        return f"{self.id}:{self.password_fingerprint}"

    @classmethod
    async def register(cls, db: AsyncSession, nickname: str, email: str, password: str) -> "User":
        """A new account; AccountConflict if the nickname or email is taken, even by a
        registration that commits a moment before this one."""
        await cls._check_free(db, nickname, email)
        user = cls(nickname=nickname, email=email.strip().lower())
        await user.set_password(password)
        db.add(user)
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()
            await cls._check_free(db, nickname, email)
            raise AccountConflict(nickname=True)  # the only other unique rule
        return user

    @classmethod
    async def _check_free(cls, db: AsyncSession, nickname: str, email: str,
                          exclude_id: int | None = None) -> None:
        conflict = AccountConflict(
            nickname=await cls.nickname_taken(db, nickname, exclude_id),
            email=email is not None and await cls.by_email(db, email) is not None)
        if conflict.nickname or conflict.email:
            raise conflict

    async def update_profile(self, db: AsyncSession, nickname: str, about_me: str | None) -> None:
        """Rename (one's own nickname in another case is fine) and describe oneself;
        AccountConflict if the nickname is someone else's, even by a moment."""
        await self._check_free(db, nickname, None, exclude_id=self.id)
        self.nickname = nickname
        self.about_me = about_me or None
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()
            await db.refresh(self)
            raise AccountConflict(nickname=True)

    async def change_password(self, db: AsyncSession, password: str) -> None:
        """A new password: reset links and other sessions made with the old one stop working."""
        await self.set_password(password)
        await db.commit()

    async def set_password(self, password: str) -> None:
        self.password_hash = await hash_password(password)

    async def check_password(self, password: str) -> bool:
        return await verify_password(self.password_hash, password)

    def avatar(self, size: int) -> str:
        digest = hashlib.md5(self.email.strip().lower().encode()).hexdigest()
        return f"https://www.gravatar.com/avatar/{digest}?d=identicon&s={int(size)}"

    @staticmethod
    def nickname_is_valid(nickname: str) -> bool:
        return bool(NICKNAME_PATTERN.fullmatch(nickname)) and len(nickname) <= NICKNAME_MAX

    @classmethod
    async def by_nickname(cls, db: AsyncSession, nickname: str) -> "User | None":
        if not cls.nickname_is_valid(nickname):
            return None  # never a user, and no query with whatever bytes came in the URL
        return await db.scalar(select(cls).where(func.lower(cls.nickname) == nickname.lower()))

    @classmethod
    async def by_email(cls, db: AsyncSession, email: str) -> "User | None":
        return await db.scalar(select(cls).where(cls.email == email.strip().lower()))

    @classmethod
    async def nickname_taken(cls, db: AsyncSession, nickname: str, exclude_id: int | None = None) -> bool:
        query = select(cls.id).where(func.lower(cls.nickname) == nickname.lower())
        if exclude_id is not None:
            query = query.where(cls.id != exclude_id)
        return await db.scalar(query) is not None

    @classmethod
    async def suggest_nickname(cls, db: AsyncSession, wanted: str) -> str:
        """The wanted nickname if free, else wanted2, wanted3, … (the first one free)."""
        base = wanted[: NICKNAME_MAX - 6]
        pattern = base.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        taken = set(await db.scalars(
            select(func.lower(cls.nickname)).where(func.lower(cls.nickname).like(pattern, escape="\\"))
        ))
        if wanted.lower() not in taken:
            return wanted
        n = 2
        while f"{base}{n}".lower() in taken:
            n += 1
        return f"{base}{n}"

    # --- follows -----------------------------------------------------------------

    async def is_following(self, db: AsyncSession, other: "User") -> bool:
        return await db.scalar(select(followers.c.follower_id).where(
            followers.c.follower_id == self.id, followers.c.followed_id == other.id)) is not None

    async def follow(self, db: AsyncSession, other: "User") -> bool:
        """Follow `other`; False if already following (following twice is harmless)."""
        if other.id == self.id:
            raise ValueError("users cannot follow themselves")
        if await self.is_following(db, other):
            return False
        await db.execute(insert(followers).values(follower_id=self.id, followed_id=other.id,
                                                  timestamp=utcnow()))
        try:
            await db.commit()
        except IntegrityError:  # the same follow sent twice at once
            await db.rollback()
            return False
        return True

    async def unfollow(self, db: AsyncSession, other: "User") -> bool:
        result = await db.execute(delete(followers).where(
            followers.c.follower_id == self.id, followers.c.followed_id == other.id))
        await db.commit()
        return result.rowcount > 0

    async def follow_counts(self, db: AsyncSession) -> tuple[int, int]:
        """(followers, following), counted in the database in one statement."""
        row = (await db.execute(select(
            select(func.count()).where(followers.c.followed_id == self.id).scalar_subquery(),
            select(func.count()).where(followers.c.follower_id == self.id).scalar_subquery(),
        ))).one()
        return row[0], row[1]

    @staticmethod
    async def follow_states(db: AsyncSession, viewer: "User | None",
                            users: list["User"]) -> dict[int, "FollowState"]:
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

    # --- lists ---------------------------------------------------------------------

    def timeline(self) -> Select:
        """Posts of followed users plus one's own: one query served by ix_post_user_id_timestamp_id."""
        authors = select(followers.c.followed_id).where(followers.c.follower_id == self.id).union_all(
            select(literal(self.id)))
        return select(Post).where(Post.user_id.in_(authors)).options(joinedload(Post.author, innerjoin=True))

    def own_posts(self) -> Select:
        return select(Post).where(Post.user_id == self.id).options(joinedload(Post.author, innerjoin=True))

    def followers_list(self) -> Select:
        return (select(User, followers.c.timestamp)
                .join(followers, followers.c.follower_id == User.id)
                .where(followers.c.followed_id == self.id))

    def following_list(self) -> Select:
        return (select(User, followers.c.timestamp)
                .join(followers, followers.c.followed_id == User.id)
                .where(followers.c.follower_id == self.id))

    def seen_now(self, now: datetime | None = None, every: timedelta = timedelta(minutes=1)) -> bool:
        """Record a visit, at most once a minute; True when something changed."""
        now = now or utcnow()
        if self.last_seen is None or now - self.last_seen >= every:
            self.last_seen = now
            return True
        return False


# Nicknames are unique whatever their case: "John" and "john" are the same person.
Index("ix_user_nickname_lower", func.lower(User.nickname), unique=True)


@dataclass(frozen=True)
class FollowState:
    followers: int
    followed_by_viewer: bool


class Post(Base):
    __tablename__ = "post"
    __table_args__ = (
        Index("ix_post_user_id_timestamp_id", "user_id", "timestamp", "id"),
        Index("ix_post_timestamp_id", "timestamp", "id"),
        {"sqlite_autoincrement": True},  # never reuse a deleted post's id (old links, cursors)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(POST_MAX))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8), default="")

    author: Mapped[User] = relationship(back_populates="posts", lazy="raise")

    def __repr__(self) -> str:
        return f"<Post {self.id} by {self.user_id}>"

    @staticmethod
    def explore() -> Select:
        return select(Post).options(joinedload(Post.author, innerjoin=True))

    def deletable_by(self, user: User) -> bool:
        """Only the author may delete a post."""
        return self.user_id == user.id

    async def delete_by(self, db: AsyncSession, user: User) -> None:
        if not self.deletable_by(user):
            raise PermissionError("only the author may delete a post")
        await db.delete(self)
        await db.commit()

    @classmethod
    async def publish(cls, db: AsyncSession, author: User, body: str) -> "Post":
        post = cls(body=body, author=author, user_id=author.id, timestamp=utcnow(),
                   language=await detect_language(body))
        db.add(post)
        await db.commit()
        return post


class Throttle(Base):
    """Log-in attempts per key (a nickname), kept in the database so every worker sees them.

    An attempt is claimed atomically *before* the password is checked, so attempts sent in
    parallel cannot slip past the slow-down: past the free attempts, only one at a time.
    """

    __tablename__ = "throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # attempts not (yet) successful
    last_attempt: Mapped[datetime] = mapped_column(UTCDateTime())
    next_allowed: Mapped[datetime] = mapped_column(UTCDateTime())

    FREE_ATTEMPTS = 3
    MAX_DELAY = 300
    FORGET_AFTER = timedelta(minutes=15)
    IN_FLIGHT = timedelta(seconds=5)  # an attempt being checked holds off the next one

    @classmethod
    def delay(cls, failures: int) -> timedelta:
        if failures < cls.FREE_ATTEMPTS:
            return timedelta(0)
        return timedelta(seconds=min(2 ** (failures - cls.FREE_ATTEMPTS), cls.MAX_DELAY))

    @staticmethod
    def key_for(kind: str, value: str) -> str:
        """A fixed-length key for any input (lower() can make a string longer)."""
        return f"{kind}:{hashlib.sha256(value.lower().encode()).hexdigest()}"

    @classmethod
    async def claim(cls, db: AsyncSession, key: str) -> tuple[int, datetime]:
        """Take an attempt: (0, when) if it may go ahead, else (seconds to wait, when)."""
        for _retry in range(3):
            now = utcnow()
            insert_row = (sqlite_insert if db.bind.dialect.name == "sqlite" else postgresql_insert)(cls)
            await db.execute(insert_row.values(key=key, failures=0, last_attempt=now, next_allowed=EPOCH)
                             .on_conflict_do_nothing(index_elements=["key"]))
            stale = cls.last_attempt < now - cls.FORGET_AFTER
            failures = case((stale, 1), else_=cls.failures + 1)
            claimed = await db.execute(
                update(cls).where(cls.key == key, or_(cls.next_allowed <= now, stale)).values(
                    failures=failures,
                    last_attempt=now,
                    next_allowed=case(
                        (failures >= cls.FREE_ATTEMPTS, literal(now + cls.IN_FLIGHT, UTCDateTime())),
                        else_=cls.next_allowed),
                ))
            await db.commit()
            if claimed.rowcount == 1:
                return 0, now
            throttle = await db.get(cls, key, populate_existing=True)
            if throttle is not None:
                return max(1, math.ceil((throttle.next_allowed - now).total_seconds())), now
            # A successful log-in cleared the row meanwhile: start afresh.
        return 1, now

    @classmethod
    async def failed(cls, db: AsyncSession, key: str, claimed_at: datetime) -> None:
        """The attempt claimed at `claimed_at` failed: the next one waits, longer after each
        failure (unless a later attempt has claimed the row meanwhile: its hold stands)."""
        throttle = await db.get(cls, key, populate_existing=True)
        if throttle is not None:
            await db.execute(update(cls).where(cls.key == key, cls.last_attempt == claimed_at).values(
                next_allowed=literal(claimed_at + cls.delay(throttle.failures), UTCDateTime())))
        # Forget stale rows as we go, so typos and unknown nicknames do not pile up.
        await db.execute(delete(cls).where(cls.last_attempt < utcnow() - cls.FORGET_AFTER))
        await db.commit()

    @classmethod
    async def clear(cls, db: AsyncSession, key: str) -> None:
        await db.execute(delete(cls).where(cls.key == key))
        await db.commit()
