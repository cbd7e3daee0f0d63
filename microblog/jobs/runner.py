"""Claiming and running jobs: one at a time (`run_one`, for tests and tools) or several at once
within each kind's limit (`JobRunner`), and deleting finished jobs once they are old (`purge`)."""
import asyncio
import logging
from collections import Counter
from datetime import timedelta
from typing import Iterable

from quart import Quart
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import db as database
from ..db import utcnow
from ..logs import Repeats
from .model import DONE, FAILED, HANDLERS, QUEUED, RUNNING, Final, Job, Policy, RetryAfter, policy

log = logging.getLogger("microblog.jobs")

PURGE_EVERY = 3600  # seconds between two purges by one runner (the first when it starts)
PURGE_BATCH = 1000  # rows deleted per transaction
PURGE_BATCHES = 50  # transactions per purge at most: a backlog goes over several purges


def _due(now, exclude: Iterable[str] = ()):
    conditions = [Job.state.in_((QUEUED, RUNNING)), Job.run_after <= now]
    if exclude:
        conditions.append(Job.kind.not_in(list(exclude)))
    return conditions


async def claim(db: AsyncSession, lease_seconds: float, exclude: Iterable[str] = ()) -> Job | None:
    """Take the next due job (committed at once) of a kind not in `exclude`, or None. Two runners
    never take the same one: PostgreSQL and MariaDB skip rows another runner has locked; SQLite
    runs one writer at a time."""
    now = utcnow()
    exclude = list(exclude)
    if await db.scalar(select(Job.id).where(*_due(now, exclude)).limit(1)) is None:
        await db.rollback()
        return None  # the common case costs one read, not a write
    due = select(Job.id).where(*_due(now, exclude)).order_by(Job.run_after, Job.id).limit(1)
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


def _finished(state: str, error: str | None) -> dict:
    """A finished job: no longer holding its key; run_after says when it finished (retention)."""
    return {"state": state, "last_error": error, "dedup_key": None, "run_after": utcnow()}


async def take(app: Quart, exclude: Iterable[str] = ()) -> Job | None:
    async with app.app_context():
        async with database.new_session() as db:
            return await claim(db, app.config["JOBS_LEASE_SECONDS"], exclude)


async def run_one(app: Quart, exclude: Iterable[str] = ()) -> bool:
    """Claim one due job and run it; False when nothing is due."""
    job = await take(app, exclude)
    if job is None:
        return False
    await run(app, job)
    return True


async def run(app: Quart, job: Job) -> None:
    """Run a claimed job's handler and record how it went."""
    config = app.config
    rules = policy(config, job.kind)
    async with app.app_context():
        if job.attempts > rules.max_attempts(config):  # its runners kept dying mid-job
            async with database.separate_transaction() as db:
                await _record(db, job, **_finished(FAILED, "lease expired too often"))
            log.error("job %d (%s) failed for good: its runner died %d times", job.id, job.kind, job.attempts - 1)
            return
        try:
            # The handler's own changes (the request-like session) commit with "done".
            await asyncio.wait_for(HANDLERS[job.kind](job), config["JOBS_LEASE_SECONDS"])
            session = database.get_session()
            await _record(session, job, **_finished(DONE, None))
            await database.commit(session)
        except Exception as error:
            await database.discard_request_session()
            await _failed(config, rules, job, error, repeats(app))


def repeats(app: Quart) -> Repeats:
    """This app's summary of repeated failures: a kind failing the same way over and over (its
    index read-only: 1,550 attempts a minute) is one line, then one a minute counting them."""
    return app.extensions.setdefault("job_failures", Repeats(log))


async def _failed(config: dict, rules: Policy, job: Job, error: Exception, repeated: Repeats) -> None:
    description = f"{type(error).__name__}: {error}"[:2000]
    async with database.separate_transaction() as db:
        if isinstance(error, Final):
            await _record(db, job, **_finished(FAILED, description))
            log.error("job %d (%s) failed for good at attempt %d (a final failure, not retried): %s",
                      job.id, job.kind, job.attempts, description)
        elif job.attempts >= rules.max_attempts(config):
            await _record(db, job, **_finished(FAILED, description))
            log.error("job %d (%s) failed for good after %d attempts: %s",
                      job.id, job.kind, job.attempts, description)
        else:
            delay = rules.delay(config, job.attempts)
            if isinstance(error, RetryAfter):
                delay = max(delay, error.seconds)
            await _record(db, job, state=QUEUED, last_error=description,
                          run_after=utcnow() + timedelta(seconds=delay))
            repeated.log(logging.WARNING, (job.kind, type(error).__name__), job.kind, "failed attempts",
                         f"job {job.id} ({job.kind}) attempt {job.attempts} failed, next try in {delay:.0f} s: "
                         f"{description}")


async def purge(config: dict) -> int:
    """Delete jobs done more than JOBS_KEEP_DAYS ago and failed more than JOBS_KEEP_FAILED_DAYS
    ago, a batch per transaction (at most PURGE_BATCHES of each); the number deleted."""
    now, deleted = utcnow(), 0
    for state, days in ((DONE, config["JOBS_KEEP_DAYS"]), (FAILED, config["JOBS_KEEP_FAILED_DAYS"])):
        old = (Job.state == state, Job.run_after < now - timedelta(days=days))
        for _batch in range(PURGE_BATCHES):
            async with database.separate_transaction() as db:
                ids = list(await db.scalars(select(Job.id).where(*old).limit(PURGE_BATCH)))
                if ids:  # MariaDB: no LIMIT in a subquery of IN
                    await db.execute(delete(Job).where(Job.id.in_(ids), *old)
                                     .execution_options(synchronize_session=False))
            deleted += len(ids)
            if len(ids) < PURGE_BATCH:
                break
    return deleted


def _log_trouble(what: str, error: BaseException) -> None:
    trouble = database.unavailability(error)
    if trouble is None:
        log.error("the job runner could not %s", what, exc_info=error)
    else:  # passing trouble: one line, as for a request answered 503
        log.warning("the job runner could not %s (%s): %s", what, trouble, database.first_line(error))


class JobRunner:
    """Runs due jobs, up to JOBS_CONCURRENCY at once and no more of a kind than its policy's
    concurrency, each as a task of its own: a kind stalled at its limit (mail to a server that
    does not answer) leaves the others room. Sleeps until woken, a job ends or JOBS_POLL_SECONDS;
    deletes old finished jobs every PURGE_EVERY seconds."""

    def __init__(self, app: Quart):
        self.app = app
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._running: dict[asyncio.Task, str] = {}  # task -> the kind of job it runs
        self._next_purge = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    def wake(self) -> None:
        self._wake.set()

    def _full(self) -> list[str]:
        """The kinds this runner runs as many of as their policy allows."""
        config = self.app.config
        return [kind for kind, count in Counter(self._running.values()).items()
                if count >= (policy(config, kind).concurrency or config["JOBS_CONCURRENCY"])]

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            await self._fill()
            repeats(self.app).flush()
            if loop.time() >= self._next_purge and not self._stopping:
                self._next_purge = loop.time() + PURGE_EVERY
                try:
                    async with self.app.app_context():
                        deleted = await purge(self.app.config)
                    if deleted:
                        log.info("deleted %d finished job(s) past their retention", deleted)
                except Exception as error:
                    _log_trouble("delete old jobs", error)
            if not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.app.config["JOBS_POLL_SECONDS"])
                except TimeoutError:
                    pass

    async def _fill(self) -> None:
        """Claim due jobs while there is room, each run by a task of its own."""
        while not self._stopping and len(self._running) < self.app.config["JOBS_CONCURRENCY"]:
            try:
                job = await take(self.app, self._full())
            except Exception as error:  # the database is down, say: try again later
                _log_trouble("claim a job", error)
                return
            if job is None:
                return
            task = asyncio.get_running_loop().create_task(run(self.app, job))
            self._running[task] = job.kind
            task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task) -> None:
        self._running.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            _log_trouble("record how a job went", task.exception())  # retried after its lease
        self._wake.set()  # room for another

    async def stop(self, timeout: float = 10) -> None:
        """Let the jobs in hand finish (up to `timeout`); one cut short is retried after its lease."""
        self._stopping = True
        self._wake.set()
        deadline = asyncio.get_running_loop().time() + timeout
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout)
            except TimeoutError:
                pass
        if self._running:
            left = max(0.0, deadline - asyncio.get_running_loop().time())
            _done, cut_short = await asyncio.wait(list(self._running), timeout=left)
            for task in cut_short:
                task.cancel()
            if cut_short:
                await asyncio.gather(*cut_short, return_exceptions=True)
                log.warning("the job runner was stopped mid-job; %d job(s) will be retried after their lease",
                            len(cut_short))
        repeats(self.app).flush(everything=True)
