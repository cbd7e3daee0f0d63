"""The job row, the kinds of job with their policies, and queueing (`enqueue`)."""
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy import JSON, Index, Integer, String, Text, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from .. import db as database
from ..db import Base, UTCDateTime, insert_or_ignore, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
RETRY_AFTER_LIMIT = 86400  # a Retry-After longer than a day is taken as a day


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Queued: not before this time. Running: when the lease runs out (then anyone may claim it).
    # Done or failed: when it finished (kept JOBS_KEEP_DAYS, JOBS_KEEP_FAILED_DAYS after that).
    run_after: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "kind:key" while the job is queued or running, NULL once it is done or failed: a second job
    # with the same key is not queued meanwhile (NULLs never collide, on every database).
    dedup_key: Mapped[str | None] = mapped_column(String(255), index=True, unique=True)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state} attempt {self.attempts}>"


class Final(Exception):
    """Raised by a handler for a failure that trying again cannot mend (a permanent refusal):
    the job is marked failed at once."""


class RetryAfter(Exception):
    """Raised by a handler when the other side asked to be left alone for `seconds` (Retry-After):
    the next try is not sooner than that (nor sooner than the backoff). It counts as an attempt."""

    def __init__(self, seconds: float, reason: str = ""):
        super().__init__(reason or f"asked to retry after {seconds:g} s")
        self.seconds = max(0.0, min(float(seconds), RETRY_AFTER_LIMIT))


@dataclass(frozen=True)
class Policy:
    """How a kind of job is retried and how many of it a runner runs at once."""
    attempts: int | None = None  # tries before the job is marked failed; None: JOBS_MAX_ATTEMPTS
    max_delay: float = 3600  # the longest wait between two tries (the wait doubles up to it)
    concurrency: int | None = None  # at most this many at once per runner; None: JOBS_CONCURRENCY

    def max_attempts(self, config: dict) -> int:
        return self.attempts or config["JOBS_MAX_ATTEMPTS"]

    def delay(self, config: dict, attempts: int) -> float:
        return retry_delay(config, attempts, self.max_delay)


def retry_delay(config: dict, attempts: int, max_delay: float = 3600) -> float:
    """Seconds before the next try: doubling from JOBS_RETRY_SECONDS, at most `max_delay`."""
    return min(config["JOBS_RETRY_SECONDS"] * 2 ** (attempts - 1), max_delay)


Handler = Callable[[Job], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}
POLICIES: dict[str, Policy] = {}


def handler(kind: str, *, attempts: int | None = None, max_delay: float = 3600,
            concurrency: int | None = None) -> Callable[[Handler], Handler]:
    """Register the coroutine that runs jobs of `kind`, with its policy. It raises to ask for a
    retry, `Final` for a failure that is not retried, `RetryAfter` to be tried no sooner."""
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        POLICIES[kind] = Policy(attempts, max_delay, concurrency)
        return function
    return register


def policy(config: dict, kind: str) -> Policy:
    """`kind`'s policy as declared, with what JOBS_POLICIES changes of it ({kind: {field: value}})."""
    return replace(POLICIES.get(kind, Policy()), **config.get("JOBS_POLICIES", {}).get(kind, {}))


def enqueue(db: AsyncSession, kind: str, payload: dict, delay: float = 0, key: str | None = None) -> Job:
    """A job, staged in `db`'s transaction: it exists if and only if that transaction commits.
    This process's runner is woken at the commit, so the job usually starts at once.

    With a `key`, the job is not queued when one of its kind with that key is queued or running
    (not yet finished), even one another transaction is writing at the same time: then nothing is
    written, quietly. A keyed job's row is written when `db` flushes (INSERT … ON CONFLICT DO
    NOTHING), so the Job returned stays outside the session and gets no id. Its handler should
    read what is true when it runs: a change made while it runs queues nothing more."""
    if kind not in HANDLERS:
        raise LookupError(f"no handler for job kind {kind!r}")
    now = utcnow()
    job = Job(kind=kind, payload=payload, state=QUEUED, attempts=0,
              run_after=now + timedelta(seconds=delay), created_at=now, updated_at=now,
              dedup_key=f"{kind}:{key}"[:255] if key is not None else None)
    db.add(job)
    database.on_commit(_wake_local_runner, db)
    return job


@event.listens_for(Session, "before_flush")
def _write_keyed_jobs(session: Session, _flush_context, _instances) -> None:
    """Keyed jobs are written with INSERT … ON CONFLICT DO NOTHING (INSERT IGNORE on MariaDB), in
    the session's transaction: a duplicate key is no error and does not spoil the transaction."""
    for job in [obj for obj in session.new if isinstance(obj, Job) and obj.dedup_key is not None]:
        session.expunge(job)
        columns = {column.key: getattr(job, column.key) for column in Job.__table__.columns
                   if column.key != "id"}
        session.connection().execute(insert_or_ignore(session, Job).values(**columns))


def _wake_local_runner() -> None:
    from quart import current_app
    runner = current_app.extensions.get("job_runner")
    if runner is not None:
        runner.wake()
