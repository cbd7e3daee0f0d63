"""Users: who they are (User, the public identity) and, for accounts here, how they log in and
what they chose (LocalUser); their passwords, and the uniqueness of nicknames and emails."""
import hashlib
import re
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import ForeignKey, Index, Select, String, bindparam, delete, false, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from .. import events
from ..db import Base, UTCDateTime, insert_or_ignore, savepoint, utcnow
from .nicknames import NICKNAME_MAX, NICKNAME_PATTERN, NicknameHold, fold, folded
from .passwords import hash_password, verify_password

EMAIL_MAX = 120
ABOUT_ME_MAX = 140
DISPLAY_NAME_MAX = 50
DOMAIN_MAX = 253  # a host name's longest
# A host name or IPv4 address, with a port when not the default (bob@localhost:3000).
HOST_PATTERN = re.compile(r"(?=.{1,253}\Z)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?")


class AccountConflict(Exception):
    """A nickname or email that someone else already has (checked, or lost in a race)."""

    def __init__(self, nickname: bool = False, email: bool = False):
        super().__init__(f"taken: nickname={nickname} email={email}")
        self.nickname = nickname
        self.email = email


def _local(name: str) -> property:
    """A field of the user's local part, as if it were the user's own: None for someone from
    elsewhere, and where the query left the local part out (post cards without Gravatars)."""
    def read(user: "User"):
        local = instance_dict(user).get("local")
        return getattr(local, name) if local is not None else None

    def write(user: "User", value) -> None:
        if user.local is None:
            user.local = LocalUser()
        setattr(user.local, name, value)
    return property(read, write, doc=f"LocalUser.{name}")


class LocalUser(Base):
    """The part of a user that exists only for someone with an account here: how they log in and
    what they chose. One row per local User, removed with it."""
    __tablename__ = "local_user"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    theme: Mapped[str | None] = mapped_column(String(8))  # light, dark, else auto (themes/)
    notify_new_followers: Mapped[bool] = mapped_column(default=True, server_default=true())  # by mail
    # Whether they block anyone or hide a server (blocks/): only then do the lists they read carry
    # blocks' filter. Loaded with their session, so for everyone else the filter costs nothing.
    has_blocks: Mapped[bool] = mapped_column(default=False, server_default=false())

    user: Mapped["User"] = relationship(back_populates="local", lazy="raise")


class User(Base):
    """A person as others see them: the public identity that posts, follows and timelines point
    at. Someone with an account here also has a `local` part (LocalUser: e-mail, password,
    settings); federation adds people from other servers as Users without one, who can never
    log in or be mailed. (Mastodon's accounts/users, takahe's Identity/User: see the README.)"""
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    nickname: Mapped[str] = mapped_column(String(NICKNAME_MAX))
    # Whose server the person is on: '' here (not NULL, so (nickname, domain) is unique on every
    # database), else the host of a person from elsewhere (federation/).
    domain: Mapped[str] = mapped_column(String(DOMAIN_MAX), default="", server_default="")
    display_name: Mapped[str | None] = mapped_column(String(DISPLAY_NAME_MAX))  # any letters; else the nickname
    about_me: Mapped[str | None] = mapped_column(String(ABOUT_ME_MAX))
    # The digest of the person's own picture (avatars/models.py: Picture), in its URL; None: an identicon.
    picture: Mapped[str | None] = mapped_column(String(32))
    # Their server is blocked by the operator (federation/domain_blocks.py): hidden everywhere,
    # as if not there (profile and posts 404, out of search), never followed nor delivered to.
    suspended: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Loaded with the user in the same statement (a join on the primary key), never on its own.
    local: Mapped["LocalUser | None"] = relationship(back_populates="user", lazy="joined", innerjoin=False,
                                                     cascade="all, delete-orphan", passive_deletes=True)

    def __repr__(self) -> str:
        return f"<User {self.nickname}>"

    @property
    def is_local(self) -> bool:
        return self.domain == ""

    @property
    def handle(self) -> str:
        """nick for someone here, nick@host for someone from elsewhere."""
        return self.nickname if self.is_local else f"{self.nickname}@{self.domain}"

    @property
    def name(self) -> str:
        """What to call them: their display name, else their nickname."""
        return self.display_name or self.nickname

    # What only a local account has, read and written through its `local` part: None for someone
    # from elsewhere (writing one makes the local part: registration and tests build users so).
    email = _local("email")
    password_hash = _local("password_hash")
    last_seen = _local("last_seen")
    locale = _local("locale")
    timezone = _local("timezone")
    theme = _local("theme")
    notify_new_followers = _local("notify_new_followers")
    has_blocks = _local("has_blocks")

    @property
    def password_fingerprint(self) -> str:
        """Changes with the password: reset links and log-in sessions made before stop working."""
        return hashlib.sha256((self.password_hash or "").encode()).hexdigest()[:16]

    @classmethod
    async def register(cls, db: AsyncSession, nickname: str, email: str, password: str) -> "User":
        """A new account (staged); AccountConflict if the nickname or email is taken, even by a
        registration that commits a moment before this one."""
        await cls._check_free(db, nickname, email)
        email, password_hash = email.strip().lower(), await hash_password(password)
        # A lost race inserts nothing (and spoils nothing of the request's transaction).
        user_id = await db.scalar(insert_or_ignore(db, cls).values(nickname=nickname).returning(cls.id))
        if user_id is None:
            await cls._check_free(db, nickname, email)
            raise AccountConflict(nickname=True)  # the only other unique rule of a user
        if await db.scalar(insert_or_ignore(db, LocalUser).values(
                user_id=user_id, email=email, password_hash=password_hash).returning(LocalUser.user_id)) is None:
            await db.execute(delete(cls).where(cls.id == user_id))  # the e-mail was taken a moment ago
            raise AccountConflict(email=True)
        await events.account_registered.send(db, user_id=user_id)
        return await db.get_one(cls, user_id)

    @classmethod
    async def _check_free(cls, db: AsyncSession, nickname: str, email: str | None,
                          exclude_id: int | None = None) -> None:
        conflict = AccountConflict(
            nickname=await cls.nickname_taken(db, nickname, exclude_id),
            email=email is not None and await cls.by_email(db, email) is not None)
        if conflict.nickname or conflict.email:
            raise conflict

    async def update_profile(self, db: AsyncSession, nickname: str, about_me: str | None,
                             display_name: str | None = None) -> None:
        """Rename (one's own nickname in another case is fine), name and describe oneself (staged);
        AccountConflict if the nickname is someone else's, even by a moment. The old nickname is
        held for this account a while (nicknames.py)."""
        if fold(nickname) != fold(self.nickname):  # a new name: two look-alikes from before may both stay
            await self._check_free(db, nickname, None, exclude_id=self.id)
            await NicknameHold.hold(db, self.nickname, self.id)
        try:
            async with savepoint(db):
                await db.execute(update(User).where(User.id == self.id)
                                 .values(nickname=nickname, about_me=about_me or None,
                                         display_name=display_name or None))
        except IntegrityError:
            raise AccountConflict(nickname=True)
        await events.profile_updated.send(db, user_id=self.id)

    async def change_password(self, password: str) -> None:
        """A new password (staged): reset links and log-in sessions made with the old one stop
        working (LoginSession.end_others removes their rows)."""
        await self.set_password(password)

    async def set_password(self, password: str) -> None:
        self.password_hash = await hash_password(password)

    async def check_password(self, password: str) -> bool:
        return await verify_password(self.password_hash, password)

    @staticmethod
    def nickname_is_valid(nickname: str) -> bool:
        return bool(NICKNAME_PATTERN.fullmatch(nickname)) and len(nickname) <= NICKNAME_MAX

    @classmethod
    async def by_nickname(cls, db: AsyncSession, nickname: str) -> "User | None":
        if not cls.nickname_is_valid(nickname):
            return None  # never a user, and no query with whatever bytes came in the URL
        return await db.scalar(_by_nickname(), {"nickname": nickname.lower()})

    @classmethod
    async def by_handle(cls, db: AsyncSession, handle: str) -> "User | None":
        """Someone here by nickname, or someone from elsewhere known here by nick@host (any case;
        never fetched: looking people up elsewhere is federation's)."""
        nickname, at, domain = handle.partition("@")
        if not at:
            return await cls.by_nickname(db, nickname)
        if not nickname or len(nickname) > NICKNAME_MAX or not HOST_PATTERN.fullmatch(domain):
            return None
        return await db.scalar(_by_handle(), {"nickname": nickname.lower(), "domain": domain.lower()})

    @classmethod
    async def by_email(cls, db: AsyncSession, email: str) -> "User | None":
        return await db.scalar(select(cls).where(cls.id == select(LocalUser.user_id).where(
            LocalUser.email == email.strip().lower()).scalar_subquery()))

    @classmethod
    async def nickname_taken(cls, db: AsyncSession, nickname: str, exclude_id: int | None = None) -> bool:
        """Whether `nickname` is someone else's: theirs in any case or with look-alike letters,
        or held for them after a rename (nicknames.py)."""
        users = select(cls.id).where(folded(cls.nickname) == fold(nickname), cls.domain == "")
        if exclude_id is not None:
            users = users.where(cls.id != exclude_id)
        holder = await db.scalar(select(NicknameHold.holder(nickname)))
        return (holder is not None and holder != exclude_id) or await db.scalar(users.limit(1)) is not None

    @classmethod
    async def suggest_nickname(cls, db: AsyncSession, wanted: str) -> str:
        """The wanted nickname if free, else wanted2, wanted3, … (the first one free)."""
        base = wanted[: NICKNAME_MAX - 6]
        pattern = base.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        taken = set(await db.scalars(
            select(func.lower(cls.nickname)).where(func.lower(cls.nickname).like(pattern, escape="\\"), cls.domain == "")
        ))
        n, candidate = 1, wanted
        while candidate.lower() in taken or await cls.nickname_taken(db, candidate):  # look-alikes, holds
            n += 1
            candidate = f"{base}{n}"
        return candidate

    def seen_now(self, now: datetime | None = None, every: timedelta = timedelta(minutes=1)) -> bool:
        """A visit: True (and `last_seen` moved on, in memory only) at most once a minute; the
        caller saves it with `record_visit`."""
        now = now or utcnow()
        if self.last_seen is None or now - self.last_seen >= every or self.last_seen > now:  # or the clock stepped back
            set_committed_value(self.local, "last_seen", now)
            return True
        return False

    @classmethod
    async def record_visit(cls, db: AsyncSession, user_id: int, when: datetime) -> None:
        await db.execute(update(LocalUser).where(LocalUser.user_id == user_id).values(last_seen=when)
                         .execution_options(synchronize_session=False))


# Nicknames are unique on each server whatever their case: "John" and "john" are the same person.
Index("ix_user_nickname_lower_domain", func.lower(User.nickname), User.domain, unique=True)


@cache
def _by_handle() -> Select:
    return select(User).where(func.lower(User.nickname) == bindparam("nickname"), User.domain == bindparam("domain"),
                              User.suspended.is_(False))  # someone on a blocked server: no one


@cache
def _by_nickname() -> Select:
    """A user here by nickname, any case (built once: every profile asks)."""
    return select(User).where(func.lower(User.nickname) == bindparam("nickname"), User.domain == "")
