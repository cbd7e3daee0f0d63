"""Job policies on SQLite and PostgreSQL (and MariaDB): retries per kind, a final failure, Retry-After,
one kind stalled at its concurrency while others run, a key that keeps a second job out even
from a competing transaction, and finished jobs deleted by the runner after their retention."""
import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import TEST_CONFIG, reset_schema
from microblog import create_app, jobs
from microblog.db import commit, new_session, utcnow
from microblog.jobs import DONE, FAILED, QUEUED, RUNNING, Job, JobRunner, enqueue, run_one

from test_jobs import all_jobs, make_due, wait_until

RELEASE: dict[str, asyncio.Event] = {}


@jobs.handler("test.policy", attempts=3, max_delay=45)
async def _fails(job: Job) -> None:
    if "retry_after" in job.payload:
        raise jobs.RetryAfter(job.payload["retry_after"])
    raise RuntimeError("down")


@jobs.handler("test.final")
async def _refused(job: Job) -> None:
    raise jobs.Final("550 no such user")


@jobs.handler("test.stall", concurrency=1)
async def _stalls(job: Job) -> None:
    await RELEASE["stall"].wait()


@jobs.handler("test.quick")
async def _quick(job: Job) -> None:
    pass


def config(database_url: str, **more) -> dict:
    return {**TEST_CONFIG, "DATABASE_URL": database_url, "JOBS_RUN_IN_WEB": False, "JOBS_RETRY_SECONDS": 30,
            "JOBS_POLL_SECONDS": 0.05, **more}


@pytest.fixture
async def quiet_app(database_url):
    await reset_schema(database_url)
    app = create_app(config(database_url))
    async with app.test_app():
        yield app


async def queue(app, kind: str, payloads: list[dict], key: str | None = None) -> None:
    async with app.app_context():
        async with new_session() as db:
            for payload in payloads:
                enqueue(db, kind, payload, key=key)
            await commit(db)


async def test_a_kind_retries_by_its_own_policy(quiet_app):
    """test.policy: 3 attempts, at most 45 s apart (JOBS_MAX_ATTEMPTS is 10, the longest wait an hour)."""
    await queue(quiet_app, "test.policy", [{}])
    waits = []
    for _attempt in range(3):
        before = utcnow()
        assert await run_one(quiet_app) is True
        [job] = await all_jobs(quiet_app)
        waits.append(round((job.run_after - before).total_seconds()))
        await make_due(quiet_app)
    assert (job.state, job.attempts, job.dedup_key) == (FAILED, 3, None)
    assert waits[:2] == [30, 45]  # 30, then 60 cut to 45
    assert await run_one(quiet_app) is False

    default = jobs.policy(quiet_app.config, "test.quick")
    assert (default.max_attempts(quiet_app.config), default.delay(quiet_app.config, 9)) == (10, 3600)
    quiet_app.config["JOBS_POLICIES"] = {"test.policy": {"attempts": 1}}  # as a test shortens it
    await queue(quiet_app, "test.policy", [{}])
    assert await run_one(quiet_app) is True
    assert (await all_jobs(quiet_app))[-1].state == FAILED


async def test_a_final_failure_is_not_retried(quiet_app, caplog):
    await queue(quiet_app, "test.final", [{}])
    assert await run_one(quiet_app) is True
    [job] = await all_jobs(quiet_app)
    assert (job.state, job.attempts, job.last_error) == (FAILED, 1, "Final: 550 no such user")
    assert f"job {job.id} (test.final) failed for good at attempt 1 (a final failure, not retried)" in caplog.text


async def test_retry_after_is_honoured_but_never_sooner_than_the_backoff(quiet_app):
    await queue(quiet_app, "test.policy", [{"retry_after": 600}, {"retry_after": 1}])
    before = utcnow()
    assert await run_one(quiet_app) and await run_one(quiet_app)
    asked_long, asked_short = [round((job.run_after - before).total_seconds()) for job in await all_jobs(quiet_app)]
    assert (asked_long, asked_short) == (600, 30)
    assert jobs.RetryAfter(10 ** 9).seconds == 86400  # an absurd Retry-After is taken as a day


async def test_a_stalled_kind_leaves_the_others_room(quiet_app):
    """Three stalling jobs, queued first, may take one task (their kind's concurrency): the quick
    ones run in the two others meanwhile."""
    RELEASE["stall"] = asyncio.Event()
    quiet_app.config["JOBS_CONCURRENCY"] = 3
    await queue(quiet_app, "test.stall", [{"n": n} for n in range(3)])
    await queue(quiet_app, "test.quick", [{"n": n} for n in range(6)])
    runner = JobRunner(quiet_app)
    runner.start()
    try:
        async def quick_done():
            return all(job.state == DONE for job in await all_jobs(quiet_app) if job.kind == "test.quick")
        await wait_until(quick_done, what="the quick jobs beside the stalled ones")
        stalled = [job.state for job in await all_jobs(quiet_app) if job.kind == "test.stall"]
        assert sorted(stalled) == [QUEUED, QUEUED, RUNNING]
        RELEASE["stall"].set()

        async def all_done():
            return all(job.state == DONE for job in await all_jobs(quiet_app))
        await wait_until(all_done, what="the stalled jobs once released")
    finally:
        RELEASE["stall"].set()
        await runner.stop(timeout=5)


async def test_a_key_keeps_a_second_job_out_while_one_waits(quiet_app):
    await queue(quiet_app, "test.quick", [{"n": 1}, {"n": 2}], key="pair")  # twice in one transaction
    await queue(quiet_app, "test.quick", [{"n": 3}], key="pair")  # while the first waits
    await queue(quiet_app, "test.quick", [{"n": 4}], key="other")
    await queue(quiet_app, "test.policy", [{}], key="pair")  # keys are per kind
    assert [(job.kind, job.payload, job.dedup_key) for job in await all_jobs(quiet_app)] == [
        ("test.quick", {"n": 1}, "test.quick:pair"), ("test.quick", {"n": 4}, "test.quick:other"),
        ("test.policy", {}, "test.policy:pair")]
    while await run_one(quiet_app, exclude=["test.policy"]):
        pass
    assert [job.dedup_key for job in await all_jobs(quiet_app)] == [None, None, "test.policy:pair"]
    await queue(quiet_app, "test.quick", [{"n": 5}], key="pair")  # the first is done: a new one
    assert [job.payload for job in await all_jobs(quiet_app)][-1] == {"n": 5}


async def test_two_competing_transactions_queue_one_keyed_job(quiet_app):
    """The second insert waits for the first transaction (PostgreSQL, MariaDB: the key's lock;
    SQLite: the writer's lock), then writes nothing, quietly; its own changes commit."""
    async with quiet_app.app_context():
        async with new_session() as first, new_session() as second:
            enqueue(first, "test.quick", {"by": "first"}, key="pair")
            await first.flush()  # written, not committed: the key is taken
            enqueue(second, "test.quick", {"by": "second"}, key="pair")
            enqueue(second, "test.quick", {"by": "second, unkeyed"})
            competing = asyncio.create_task(commit(second))
            await asyncio.sleep(0.2)  # it waits, or has not started yet: the outcome is the same
            await commit(first)
            await competing
    assert [job.payload["by"] for job in await all_jobs(quiet_app)] == ["first", "second, unkeyed"]


async def test_finished_jobs_are_deleted_by_the_runner_after_their_retention(quiet_app, monkeypatch):
    monkeypatch.setattr(jobs.runner, "PURGE_BATCH", 2)  # several batches
    quiet_app.config.update(JOBS_KEEP_DAYS=7, JOBS_KEEP_FAILED_DAYS=30)
    ages = {(DONE, 8): 5, (DONE, 6): 1, (FAILED, 31): 3, (FAILED, 29): 1, (QUEUED, 40): 1}
    async with quiet_app.app_context():
        async with new_session() as db:
            for (state, days), count in ages.items():
                for _ in range(count):
                    enqueue(db, "test.quick", {"state": state, "days": days})
            await commit(db)
            for job in await db.scalars(select(Job)):  # finished (run_after) that many days ago
                state, days = job.payload["state"], job.payload["days"]
                job.state, job.run_after = state, utcnow() - timedelta(days=days if state != QUEUED else -1)
            await commit(db)
    runner = JobRunner(quiet_app)
    runner.start()
    try:
        async def purged():
            async with quiet_app.app_context():
                async with new_session() as db:
                    return await db.scalar(select(func.count()).select_from(Job)) == 3
        await wait_until(purged, what="old jobs to be deleted")
    finally:
        await runner.stop(timeout=5)
    kept = sorted((job.state, job.payload["days"]) for job in await all_jobs(quiet_app))
    assert kept == [(DONE, 6), (FAILED, 29), (QUEUED, 40)]
