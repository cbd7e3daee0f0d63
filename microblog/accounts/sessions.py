"""Log-in sessions, kept on the server: logging out ends one for good, and a user can see theirs
and end the others.

The log-in cookie (quart-auth's, signed) holds a random 256-bit token; the table holds only its
SHA-256, so a copy of the table logs nobody in. A session is valid while its row exists, has not
expired, and the user's password is the one it was opened with (a changed password ends every
session opened before, whichever way it changed). A session without "remember me" ends after
SESSION_IDLE_HOURS without a visit; a remembered one REMEMBER_ME_DAYS after the log-in.
Everything here is staged with the request (one commit per request, db.py).
"""
import hashlib
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from quart import current_app
from sqlalchemy import Boolean, ForeignKey, Select, String, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import Base, UTCDateTime
from ..forms import strip
from .models import User

USER_AGENT_MAX = 256
MAX_PER_USER = 50  # a new log-in past this ends the one unused for longest
SEEN_EVERY = timedelta(minutes=1)
ID_PATTERN = re.compile(r"[0-9a-f]{64}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginSession(Base):
    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 (hex) of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    password_fingerprint: Mapped[str] = mapped_column(String(16))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    expires: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    remember: Mapped[bool] = mapped_column(Boolean)
    user_agent: Mapped[str] = mapped_column(String(USER_AGENT_MAX))

    def __repr__(self) -> str:
        return f"<LoginSession of {self.user_id} since {self.created:%Y-%m-%d %H:%M}>"

    @staticmethod
    def lifetime(remember: bool) -> timedelta:
        config = current_app.config
        if remember:
            return timedelta(days=config["REMEMBER_ME_DAYS"])
        return timedelta(hours=config["SESSION_IDLE_HOURS"])

    @classmethod
    async def start(cls, db: AsyncSession, user: User, remember: bool, user_agent: str) -> str:
        """A new session for `user` (staged); the token for the cookie."""
        now = clock.now()
        token = secrets.token_urlsafe(32)
        # Expired sessions (anyone's, a batch at a time) go as new ones come; a user keeps at
        # most MAX_PER_USER. Rows another request is using are skipped, never waited for.
        await cls._delete_skipping_locked(db, select(cls.id).where(cls.expires <= now).limit(100))
        await cls._delete_skipping_locked(db, select(cls.id).where(cls.user_id == user.id)
                                          .order_by(cls.last_seen.desc(), cls.id).offset(MAX_PER_USER - 1))
        await db.execute(insert(cls).values(
            id=token_hash(token), user_id=user.id, password_fingerprint=user.password_fingerprint,
            created=now, last_seen=now, expires=now + cls.lifetime(remember), remember=remember,
            user_agent=(strip(user_agent) or "")[:USER_AGENT_MAX]))
        return token

    @classmethod
    async def _delete_skipping_locked(cls, db: AsyncSession, ids) -> None:
        if db.bind.dialect.name != "sqlite":
            ids = ids.with_for_update(skip_locked=True)
        if db.bind.dialect.name == "mysql":  # MariaDB: no LIMIT/OFFSET subquery on the table deleted from
            ids = list(await db.scalars(ids))
            if ids:
                await db.execute(delete(cls).where(cls.id.in_(ids)))
            return
        await db.execute(delete(cls).where(cls.id.in_(ids.scalar_subquery())))

    @classmethod
    async def find(cls, db: AsyncSession, token: str) -> "tuple[LoginSession, User] | None":
        """The live session the token names, and its user (one query); None if it has ended."""
        found = (await db.execute(_find(), {"id": token_hash(token), "now": clock.now()})).first()
        if found is None or found[0].password_fingerprint != found[1].password_fingerprint:
            return None
        return found[0], found[1]

    def visit_due(self, now: datetime) -> bool:
        # A visit "in the future" was recorded before the clock went back: this one counts from now.
        return now - self.last_seen >= SEEN_EVERY or self.last_seen > now

    async def seen_now(self, db: AsyncSession, now: datetime | None = None) -> bool:
        """Record a visit, at most once a minute (staged); a session without "remember me" lives
        on for SESSION_IDLE_HOURS from now. A Core UPDATE: a session ended a moment ago in another
        request is quietly not updated."""
        now = now or clock.now()
        if not self.visit_due(now):
            return False
        values = {"last_seen": now}
        if not self.remember:
            values["expires"] = now + self.lifetime(False)
        await db.execute(update(LoginSession).where(LoginSession.id == self.id).values(**values))
        return True

    @classmethod
    async def of_user(cls, db: AsyncSession, user: User) -> "list[LoginSession]":
        """The user's live sessions, the most recently used first."""
        return list(await db.scalars(
            select(cls).where(cls.user_id == user.id, cls.expires > clock.now(),
                              cls.password_fingerprint == user.password_fingerprint)
            .order_by(cls.last_seen.desc(), cls.created.desc(), cls.id)))

    @classmethod
    async def end(cls, db: AsyncSession, user: User, session_id: str) -> None:
        """End one of `user`'s sessions (staged); one that is not theirs, or already ended, is
        quietly left alone."""
        await db.execute(delete(cls).where(cls.id == session_id, cls.user_id == user.id))

    @classmethod
    async def end_others(cls, db: AsyncSession, user: User, keep: "str | None") -> None:
        """End all of `user`'s sessions but `keep` (staged). After a password change every one
        would be refused anyway (their password fingerprint is old): call it *before* changing
        the password, so the user's row is not locked while other sessions' rows are waited for."""
        query = delete(cls).where(cls.user_id == user.id)
        if keep is not None:
            query = query.where(cls.id != keep)
        await db.execute(query)

    @property
    def browser_and_system(self) -> tuple[str | None, str | None]:
        return describe_user_agent(self.user_agent)


@cache
def _find() -> Select:
    """A session by its id, live at `now`, with its user (built once: every request asks)."""
    return (select(LoginSession, User).join(User, User.id == LoginSession.user_id)
            .where(LoginSession.id == bindparam("id"), LoginSession.expires > bindparam("now", type_=UTCDateTime())))


# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS = [("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"), ("OPR/", "Opera"),
            ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("SamsungBrowser/", "Samsung Internet"),
            ("CriOS/", "Chrome"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"),
            ("Safari/", "Safari")]
SYSTEMS = [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("CrOS", "ChromeOS"),
           ("Windows", "Windows"), ("Macintosh", "macOS"), ("Mac OS X", "macOS"),
           ("Linux", "Linux")]


def describe_user_agent(user_agent: str) -> tuple[str | None, str | None]:
    """(browser, system) in a few words, each None when not recognised."""
    browser = next((name for marker, name in BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in SYSTEMS if marker in user_agent), None)
    return browser, system
