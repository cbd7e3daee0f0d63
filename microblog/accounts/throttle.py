"""Slowing down guessing and floods: attempts per key (a nickname, a trusted browser, a client
address, an email address) kept in the database, so every worker and every host sees them.

An attempt is claimed atomically *before* the password is checked (or the account created, or
the mail sent), so attempts sent in parallel cannot slip past the slow-down: past the free
attempts, only one at a time. Claims and failures commit on their own, at once
(`separate_transaction`): other workers must see them whatever the request does next.

Each kind of key has its `Policy`: how many attempts are free, how the wait grows after that,
and how long a key is remembered after its last attempt.
"""
import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from quart import current_app
from sqlalchemy import Integer, String, case, delete, literal, or_, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..db import EPOCH, Base, UTCDateTime, insert_or_ignore, separate_transaction
from ..security import client_address


@dataclass(frozen=True)
class Policy:
    kind: str                   # the keys' prefix ("login:…")
    free: int = 3               # attempts before any wait
    first_delay: float = 1      # seconds after the first attempt past the free ones, then doubled
    max_delay: float = 300
    forget_after: timedelta = timedelta(minutes=15)
    # Many people's attempts on one key (a client address): a success forgives only itself,
    # rather than clearing everyone's failures.
    shared: bool = False

    def delay(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        exponent = min(failures - self.free, 32)  # 2**32 seconds is past any max_delay
        return timedelta(seconds=min(self.first_delay * 2 ** exponent, self.max_delay))


# Guessing one account's password: a nickname (from browsers that never logged in to it), or
# one browser that did (its device cookie, accounts/devices.py).
NICKNAME = Policy("login")
DEVICE = Policy("login-device")
# Reset mail for one address: a few, then one now and then (and per day, `reset_mails_per_day`).
RESET_EMAIL = Policy("reset")
DAY = timedelta(days=1)


def reset_mails_per_day() -> Policy:
    """Reset mail for one address over a day: RESET_MAILS_PER_DAY, then one a day. RESET_EMAIL
    forgets after 15 quiet minutes: alone, it let about 30 mails an hour reach one address."""
    return Policy("reset-day", free=current_app.config["RESET_MAILS_PER_DAY"], first_delay=DAY.total_seconds(),
                  max_delay=DAY.total_seconds(), forget_after=DAY)


def per_client(kind: str) -> Policy:
    """The limit per client address for `kind` ("login", "register" or "reset"), its free
    attempts from the configuration."""
    config = current_app.config
    if kind == "login":  # failed log-ins, whatever the nickname (password spraying)
        return Policy("login-client", free=config["LOGIN_FAILURES_PER_CLIENT"], shared=True)
    free = config["REGISTRATIONS_PER_CLIENT" if kind == "register" else "RESET_REQUESTS_PER_CLIENT"]
    return Policy(f"{kind}-client", free=free, first_delay=60, max_delay=3600,
                  forget_after=timedelta(hours=1), shared=True)


def client_network(address: str) -> str:
    """What counts as one client: an IPv4 address, or an IPv6 /64 (one household or host gets a
    whole /64, so single IPv6 addresses cost nothing to change)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a Unix socket): all such requests share one key
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Throttle(Base):
    __tablename__ = "throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # attempts not (yet) successful
    last_attempt: Mapped[datetime] = mapped_column(UTCDateTime())
    next_allowed: Mapped[datetime] = mapped_column(UTCDateTime())

    FREE_ATTEMPTS = NICKNAME.free
    MAX_DELAY = NICKNAME.max_delay
    FORGET_AFTER = NICKNAME.forget_after
    IN_FLIGHT = timedelta(seconds=5)  # an attempt being checked holds off the next one

    @classmethod
    def delay(cls, failures: int) -> timedelta:
        return NICKNAME.delay(failures)

    @staticmethod
    def key_for(kind: str, value: str) -> str:
        """A fixed-length key for any input (lower() can make a string longer)."""
        return f"{kind}:{hashlib.sha256(value.lower().encode()).hexdigest()}"

    @classmethod
    def client_key(cls, policy: Policy) -> str:
        """The key of this request's client for `policy`."""
        return cls.key_for(policy.kind, client_network(client_address()))

    @classmethod
    async def claim(cls, key: str, policy: Policy = NICKNAME) -> tuple[int, datetime]:
        """Take an attempt (committed at once): (0, when) if it may go ahead, else (seconds to
        wait, when)."""
        for _retry in range(3):
            now = clock.now()
            stale = cls.last_attempt < now - policy.forget_after
            failures = case((stale, 1), else_=cls.failures + 1)
            # In this order: MariaDB's SET sees the columns already set before it (the others,
            # the row as it was).
            take = update(cls).where(cls.key == key, or_(cls.next_allowed <= now, stale)).ordered_values(
                (cls.next_allowed, case((failures >= policy.free, literal(now + cls.IN_FLIGHT, UTCDateTime())),
                                        else_=cls.next_allowed)),
                (cls.failures, failures),
                (cls.last_attempt, now))
            async with separate_transaction() as db:
                if db.bind.dialect.name == "mysql":
                    # Not INSERT IGNORE: finding the row, it takes a shared lock, and two of those
                    # deadlock in the update below; this takes the row's write lock at once.
                    create = mysql_insert(cls).on_duplicate_key_update(key=cls.key)
                else:
                    create = insert_or_ignore(db, cls)
                await db.execute(create.values(key=key, failures=0, last_attempt=now, next_allowed=EPOCH))
                claimed = await db.execute(take)
            if claimed.rowcount == 1:
                return 0, now
            async with separate_transaction() as db:
                throttle = await db.get(cls, key)
                if throttle is not None and throttle.last_attempt > now:
                    await cls._count_from_now(db, throttle, now, policy)
                    continue  # then claim again: the hold may be over
            if throttle is not None:
                longest = max(policy.delay(throttle.failures), cls.IN_FLIGHT)  # for this count
                return max(1, math.ceil(min(throttle.next_allowed - now, longest).total_seconds())), now
            # A successful log-in cleared the row meanwhile: start afresh.
        return 1, now

    @classmethod
    async def _count_from_now(cls, db: AsyncSession, throttle: "Throttle", now: datetime, policy: Policy) -> None:
        """The last attempt is in the future: the clock went back since (or another host's is
        ahead). Its hold counts from now, as long as the policy holds that count at most, rather
        than for as long as the step (two hours back: a 1 s wait of two hours)."""
        hold = min(throttle.next_allowed - throttle.last_attempt, max(policy.delay(throttle.failures), cls.IN_FLIGHT))
        await db.execute(update(cls).where(cls.key == throttle.key, cls.last_attempt == throttle.last_attempt)
                         .values(last_attempt=now, next_allowed=literal(now + hold, UTCDateTime())))

    @classmethod
    async def failed(cls, key: str, claimed_at: datetime, policy: Policy = NICKNAME) -> None:
        """The attempt claimed at `claimed_at` failed (committed at once): the next one waits,
        longer after each failure (unless a later attempt has claimed the row meanwhile: its hold
        stands)."""
        async with separate_transaction() as db:
            throttle = await db.get(cls, key)
            # Within the free attempts no wait: next_allowed is left as it is (at or before this
            # claim), not moved to this claim's clock reading, which a parallel attempt whose
            # reading came a moment earlier would take for a hold.
            if throttle is not None and policy.delay(throttle.failures):
                await db.execute(update(cls).where(cls.key == key, cls.last_attempt == claimed_at).values(
                    next_allowed=literal(claimed_at + policy.delay(throttle.failures), UTCDateTime())))
            # Forget stale rows as we go, so typos and unknown nicknames do not pile up.
            await db.execute(delete(cls).where(cls.key.startswith(f"{policy.kind}:"),
                                               cls.last_attempt < clock.now() - policy.forget_after))

    @classmethod
    async def take(cls, key: str, policy: Policy) -> int:
        """Use up one of a counted allowance (an account created, a reset mail asked for):
        0 if it may go ahead (and it is counted, committed at once), else seconds to wait."""
        wait, claimed_at = await cls.claim(key, policy)
        if not wait:
            await cls.failed(key, claimed_at, policy)
        return wait

    @classmethod
    async def clear(cls, db: AsyncSession, key: str) -> None:
        """A successful log-in or reset forgets the failures (staged with the request)."""
        await db.execute(delete(cls).where(cls.key == key))

    @classmethod
    async def forgive(cls, db: AsyncSession, key: str, claimed_at: datetime) -> None:
        """The attempt claimed at `claimed_at` succeeded: it is not counted, and its hold is
        lifted, but earlier failures stand (staged with the request). For keys that many
        people share, such as a client address, where one success must not wipe out others'
        failures."""
        await db.execute(update(cls).where(cls.key == key, cls.failures > 0).values(
            failures=cls.failures - 1,
            next_allowed=case((cls.last_attempt == claimed_at, literal(claimed_at, UTCDateTime())),
                              else_=cls.next_allowed)))
        await db.execute(delete(cls).where(cls.key == key, cls.failures <= 0))


@dataclass
class Claims:
    """The attempts claimed for one log-in: `wait` seconds if one of them was refused."""

    wait: int
    taken: list[tuple[str, Policy, datetime]]

    async def failed(self) -> None:
        for key, policy, claimed_at in self.taken:
            await Throttle.failed(key, claimed_at, policy)

    async def succeeded(self, db: AsyncSession) -> None:
        for key, policy, claimed_at in self.taken:
            if policy.shared:
                await Throttle.forgive(db, key, claimed_at)
            else:
                await Throttle.clear(db, key)


async def claim_all(keys: list[tuple[str, Policy]]) -> Claims:
    """Claim an attempt on every key, in order. An attempt refused on one key is a failure on
    the keys claimed before it: polling a held nickname costs the client."""
    taken: list[tuple[str, Policy, datetime]] = []
    for key, policy in keys:
        wait, claimed_at = await Throttle.claim(key, policy)
        if wait:
            await Claims(wait, taken).failed()
            return Claims(wait, [])
        taken.append((key, policy, claimed_at))
    return Claims(0, taken)
