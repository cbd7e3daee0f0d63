"""Slowing down guessing: attempts per key (a nickname, an email address) kept in the database,
so every worker and every host sees them.

An attempt is claimed atomically *before* the password is checked, so attempts sent in parallel
cannot slip past the slow-down: past the free attempts, only one at a time. Claims and failures
commit on their own, at once (`separate_transaction`): other workers must see them whatever the
request does next.
"""
import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, case, delete, literal, or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ..db import EPOCH, Base, UTCDateTime, insert_or_ignore, separate_transaction, utcnow


class Throttle(Base):
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
    async def claim(cls, key: str) -> tuple[int, datetime]:
        """Take an attempt (committed at once): (0, when) if it may go ahead, else (seconds to
        wait, when)."""
        for _retry in range(3):
            now = utcnow()
            async with separate_transaction() as db:
                await db.execute(insert_or_ignore(db, cls).values(
                    key=key, failures=0, last_attempt=now, next_allowed=EPOCH))
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
            if claimed.rowcount == 1:
                return 0, now
            async with separate_transaction() as db:
                throttle = await db.get(cls, key)
            if throttle is not None:
                return max(1, math.ceil((throttle.next_allowed - now).total_seconds())), now
            # A successful log-in cleared the row meanwhile: start afresh.
        return 1, now

    @classmethod
    async def failed(cls, key: str, claimed_at: datetime) -> None:
        """The attempt claimed at `claimed_at` failed (committed at once): the next one waits,
        longer after each failure (unless a later attempt has claimed the row meanwhile: its hold
        stands)."""
        async with separate_transaction() as db:
            throttle = await db.get(cls, key)
            if throttle is not None:
                await db.execute(update(cls).where(cls.key == key, cls.last_attempt == claimed_at).values(
                    next_allowed=literal(claimed_at + cls.delay(throttle.failures), UTCDateTime())))
            # Forget stale rows as we go, so typos and unknown nicknames do not pile up.
            await db.execute(delete(cls).where(cls.last_attempt < utcnow() - cls.FORGET_AFTER))

    @classmethod
    async def clear(cls, db: AsyncSession, key: str) -> None:
        """A successful log-in or reset forgets the failures (staged with the request)."""
        await db.execute(delete(cls).where(cls.key == key))
