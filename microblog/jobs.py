"""Durable jobs: the side effects that must not be lost (mail, search indexing, notifications).

A job is a row written in the same transaction as the change that causes it (`enqueue`): a
change that rolls back leaves no job behind, a committed one always has its job. A runner in
each Hypercorn worker (or `quart jobs run`, on as many hosts as share the database) claims due
jobs atomically, runs the handler registered for the job's kind, and marks it done; a failure is
retried with exponential backoff for hours, then the job is marked failed and logged. A claimed
job carries a lease: if its runner dies, the job is claimed again once the lease runs out, so
handlers should be idempotent where they can be.
"""
import asyncio
import logging
import signal
from datetime import datetime, timedelta
from typing import Awaitable, Callable

import click
from quart import Quart
from sqlalchemy import JSON, Index, Integer, String, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from . import db as database
from .db import Base, UTCDateTime, utcnow

log = logging.getLogger("microblog.jobs")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Queued: not before this time. Running: when the lease runs out (then anyone may claim it).
    run_after: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state} attempt {self.attempts}>"


Handler = Callable[[Job], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the coroutine that runs jobs of `kind` (it raises to ask for a retry)."""
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function
    return register


def enqueue(db: AsyncSession, kind: str, payload: dict, delay: float = 0) -> Job:
    """A job, staged in `db`'s transaction: it exists if and only if that transaction commits.
    This process's runner is woken at the commit, so the job usually starts at once."""
    if kind not in HANDLERS:
        raise LookupError(f"no handler for job kind {kind!r}")
    now = utcnow()
    job = Job(kind=kind, payload=payload, state=QUEUED, attempts=0,
              run_after=now + timedelta(seconds=delay), created_at=now, updated_at=now)
    db.add(job)
    database.on_commit(_wake_local_runner, db)
    return job


def _wake_local_runner() -> None:
    from quart import current_app
    runner = current_app.extensions.get("job_runner")
    if runner is not None:
        runner.wake()


def retry_delay(config: dict, attempts: int) -> float:
    """Seconds before the next try: doubling from JOBS_RETRY_SECONDS, at most an hour."""
    return min(config["JOBS_RETRY_SECONDS"] * 2 ** (attempts - 1), 3600)


def _due(now: datetime):
    return (Job.state.in_((QUEUED, RUNNING)), Job.run_after <= now)


async def claim(db: AsyncSession, lease_seconds: float) -> Job | None:
    """Take the next due job (committed at once), or None. Two runners never take the same one:
    PostgreSQL and MariaDB skip rows another runner has locked; SQLite runs one writer at a time."""
    now = utcnow()
    if await db.scalar(select(Job.id).where(*_due(now)).limit(1)) is None:
        await db.rollback()
        return None  # the common case costs one read, not a write
    due = select(Job.id).where(*_due(now)).order_by(Job.run_after, Job.id).limit(1)
    if db.bind.dialect.name != "sqlite":
        due = due.with_for_update(skip_locked=True)
    take = update(Job).values(state=RUNNING, attempts=Job.attempts + 1, updated_at=now,
                              run_after=now + timedelta(seconds=lease_seconds))
    if db.bind.dialect.name == "mysql":  # MariaDB: no UPDATE … RETURNING, no subquery on the updated table
        job_id = await db.scalar(due)  # locked (FOR UPDATE) until the commit below
        if job_id is not None:
            await db.execute(take.where(Job.id == job_id).execution_options(synchronize_session=False))
    else:
        job_id = await db.scalar(take.where(Job.id == due.scalar_subquery())
                                 .returning(Job.id).execution_options(synchronize_session=False))
    await db.commit()
    return await db.get(Job, job_id, populate_existing=True) if job_id is not None else None


async def _record(db: AsyncSession, job: Job, **values) -> bool:
    """Update `job` if this runner still holds it (its attempt number is the fencing token)."""
    result = await db.execute(
        update(Job).where(Job.id == job.id, Job.attempts == job.attempts, Job.state == RUNNING)
        .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def run_one(app: Quart) -> bool:
    """Claim one due job and run it; False when nothing is due."""
    config = app.config
    async with app.app_context():
        async with database.new_session() as db:
            job = await claim(db, config["JOBS_LEASE_SECONDS"])
        if job is None:
            return False
        if job.attempts > config["JOBS_MAX_ATTEMPTS"]:  # its runners kept dying mid-job
            async with database.separate_transaction() as db:
                await _record(db, job, state=FAILED, last_error="lease expired too often")
            log.error("job %d (%s) failed for good: its runner died %d times", job.id, job.kind, job.attempts - 1)
            return True
        try:
            # The handler's own changes (the request-like session) commit with "done".
            await asyncio.wait_for(HANDLERS[job.kind](job), config["JOBS_LEASE_SECONDS"])
            session = database.get_session()
            await _record(session, job, state=DONE, last_error=None)
            await database.commit(session)
            return True
        except Exception as error:
            await database.discard_request_session()
            await _failed(config, job, error)
            return True


async def _failed(config: dict, job: Job, error: Exception) -> None:
    description = f"{type(error).__name__}: {error}"[:2000]
    async with database.separate_transaction() as db:
        if job.attempts >= config["JOBS_MAX_ATTEMPTS"]:
            await _record(db, job, state=FAILED, last_error=description)
            log.error("job %d (%s) failed for good after %d attempts: %s",
                      job.id, job.kind, job.attempts, description)
        else:
            delay = retry_delay(config, job.attempts)
            await _record(db, job, state=QUEUED, last_error=description,
                          run_after=utcnow() + timedelta(seconds=delay))
            log.warning("job %d (%s) attempt %d failed, next try in %.0f s: %s",
                        job.id, job.kind, job.attempts, delay, description)


class JobRunner:
    """Runs due jobs one after another until stopped; sleeps until woken or JOBS_POLL_SECONDS."""

    def __init__(self, app: Quart):
        self.app = app
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                ran = await run_one(self.app)
            except Exception as error:  # the database is down, say: try again later
                trouble = database.unavailability(error)
                if trouble is None:
                    log.exception("the job runner could not claim a job")
                else:  # passing trouble: one line, as for a request answered 503
                    log.warning("the job runner could not claim a job (%s): %s", trouble,
                                database.first_line(error))
                ran = False
            if not ran and not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.app.config["JOBS_POLL_SECONDS"])
                except TimeoutError:
                    pass

    async def stop(self, timeout: float = 10) -> None:
        """Let the job in hand finish (up to `timeout`); one cut short is retried after its lease."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout)
            except TimeoutError:
                log.warning("the job runner was stopped mid-job; the job will be retried")


async def counts(db: AsyncSession) -> list[tuple[str, str, int]]:
    return list((await db.execute(select(Job.kind, Job.state, func.count())
                                  .group_by(Job.kind, Job.state).order_by(Job.kind, Job.state))).all())


async def requeue_failed(db: AsyncSession, kind: str | None = None) -> int:
    """Failed jobs back in the queue, with a fresh set of attempts (staged)."""
    query = update(Job).where(Job.state == FAILED).values(
        state=QUEUED, attempts=0, run_after=utcnow(), updated_at=utcnow())
    if kind:
        query = query.where(Job.kind == kind)
    return (await db.execute(query.execution_options(synchronize_session=False))).rowcount


def init_app(app: Quart) -> None:
    @app.before_serving
    async def _start_runner() -> None:
        if app.config["JOBS_RUN_IN_WEB"]:
            runner = app.extensions["job_runner"] = JobRunner(app)
            runner.start()

    @app.after_serving
    async def _stop_runner() -> None:
        runner = app.extensions.pop("job_runner", None)
        if runner is not None:
            await runner.stop()

    jobs = click.Group("jobs", help="Durable background jobs (mail, indexing).")
    app.cli.add_command(jobs)

    async def with_database(work):
        await database.open_engine(app)
        try:
            async with app.app_context():
                return await work()
        finally:
            await database.close_engine(app)

    @jobs.command(help="Run jobs in this process until interrupted (beside or instead of the web workers).")
    def run():
        async def serve():
            runner = JobRunner(app)
            stop = asyncio.Event()
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(signal_number, stop.set)
            runner.start()
            log.info("job runner started")
            await stop.wait()
            log.info("job runner stopping")
            await runner.stop()
            log.info("job runner stopped")
        asyncio.run(with_database(serve))

    @jobs.command(help="Count jobs by kind and state.")
    def status():
        async def show():
            async with database.new_session() as db:
                rows = await counts(db)
            if not rows:
                click.echo("no jobs")
            for kind, state, count in rows:
                click.echo(f"{kind:24} {state:8} {count}")
        asyncio.run(with_database(show))

    @jobs.command(help="Put failed jobs back in the queue.")
    @click.option("--kind", help="Only jobs of this kind.")
    def retry(kind):
        async def requeue():
            async with database.separate_transaction() as db:
                return await requeue_failed(db, kind)
        click.echo(f"{asyncio.run(with_database(requeue))} job(s) queued again")
