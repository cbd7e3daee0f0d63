"""Nicknames: what one may be, when two are the same name, and the names a rename leaves behind.

Two nicknames are the same name when they differ only in case or in letters that look alike
(`bill`/`biII`, `admin`/`adrnin`, `bob`/`b0b`): nicknames are ASCII, so a small table of
look-alikes, folded before comparing, is enough. A renamed account's old nickname is held for it
for HOLD_DAYS: nobody else can take it (and pose as the person others knew by it), and its old
profile address leads to the new one meanwhile.
"""
import re
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, insert_or_ignore, utcnow

NICKNAME_MAX = 64
# Letters, digits, "." and "_", with at least one letter or digit ("." and ".." are not names:
# browsers would turn /user/.. into /).
NICKNAME_PATTERN = re.compile(r"(?=.*[A-Za-z0-9])[A-Za-z0-9._]+")
# A new nickname (registering, renaming) must also be a handle Mastodon can find and mention
# (its username rule): no dot first or last. Older nicknames that break it keep working here
# and are found by their profile's address elsewhere, not by @handle (README: Federation).
NEW_NICKNAME_PATTERN = re.compile(r"(?=.*[A-Za-z0-9])[A-Za-z0-9_](?:[A-Za-z0-9._]*[A-Za-z0-9_])?")
HOLD_DAYS = 30

# Look-alikes, in order: pairs of letters first ("rn" before "r"), then single letters.
LOOK_ALIKES = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"))


def fold(nickname: str) -> str:
    """The name a nickname is the same as: lower case, look-alikes made one."""
    key = nickname.lower()
    for written, read in LOOK_ALIKES:
        key = key.replace(written, read)
    return key


def folded(column):
    """`fold` in SQL (replace() is the same function on SQLite, PostgreSQL and MariaDB)."""
    expression = func.lower(column)
    for written, read in LOOK_ALIKES:
        expression = func.replace(expression, written, read)
    return expression


class NicknameHold(Base):
    """A nickname an account was renamed from, kept for it until `until`."""
    __tablename__ = "nickname_hold"

    name: Mapped[str] = mapped_column(String(NICKNAME_MAX), primary_key=True)  # folded
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UTCDateTime())

    @classmethod
    async def hold(cls, db: AsyncSession, nickname: str, user_id: int, now: datetime | None = None) -> None:
        """Keep `nickname` for `user_id` (staged), from now for HOLD_DAYS; expired holds go."""
        now = now or utcnow()
        name, until = fold(nickname), now + timedelta(days=HOLD_DAYS)
        await db.execute(delete(cls).where(cls.until <= now, cls.name != name))
        # Insert or renew, so that a rename sent twice at once holds the name once, quietly.
        await db.execute(insert_or_ignore(db, cls).values(name=name, user_id=user_id, until=until))
        await db.execute(update(cls).where(cls.name == name).values(user_id=user_id, until=until))

    @classmethod
    def holder(cls, nickname: str):
        """The id of the account `nickname` is held for now, if any (a scalar subquery)."""
        return select(cls.user_id).where(cls.name == fold(nickname), cls.until > utcnow()).scalar_subquery()
