"""Durable jobs on SQLite and PostgreSQL: written with the change or not at all, run once however
many runners compete, retried after a runner dies, backed off, then failed; and the reset mail
that survives a restart while the SMTP server is down."""
import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from conftest import TEST_CONFIG, free_port, make_user, post, reset_schema
from microblog import create_app, jobs
from microblog.config import normalise_database_url
from microblog.db import commit, new_session, rollback, utcnow
from microblog.jobs import FAILED, QUEUED, RUNNING, Job, JobRunner, claim, enqueue, retry_delay, run_one

ROOT = Path(__file__).resolve().parent.parent
RECORDED: list[tuple[int, dict]] = []


@jobs.handler("test.record")
async def record(job: Job) -> None:
    """A job kind for these tests: remembers what ran."""
    if job.payload.get("fail"):
        raise RuntimeError("asked to fail")
    RECORDED.append((job.id, job.payload))


@pytest.fixture(autouse=True)
def forget_recorded():
    RECORDED.clear()


def quiet_config(database_url: str, **config) -> dict:
    """An app whose runner does not start by itself: the tests run it by hand."""
    return {**TEST_CONFIG, "DATABASE_URL": database_url, "JOBS_RUN_IN_WEB": False, **config}


@pytest.fixture
async def quiet_app(database_url):
    await reset_schema(database_url)
    app = create_app(quiet_config(database_url))
    async with app.test_app():
        yield app


async def all_jobs(app) -> list[Job]:
    async with app.app_context():
        async with new_session() as db:
            return list(await db.scalars(select(Job).order_by(Job.id)))


async def test_a_job_exists_only_if_its_transaction_commits(quiet_app):
    async with quiet_app.app_context():
        async with new_session() as db:
            enqueue(db, "test.record", {"n": 1})
            await rollback(db)
            enqueue(db, "test.record", {"n": 2})
            await commit(db)
    assert [job.payload for job in await all_jobs(quiet_app)] == [{"n": 2}]
    assert await run_one(quiet_app) is True
    assert await run_one(quiet_app) is False
    assert RECORDED == [((await all_jobs(quiet_app))[0].id, {"n": 2})]
    assert [job.state for job in await all_jobs(quiet_app)] == ["done"]


async def test_a_request_that_fails_leaves_no_job(database_url, smtp_port):
    """A reset request whose transaction rolls back (the 500 page) mails nothing."""
    await reset_schema(database_url)
    app = create_app(quiet_config(database_url, PROPAGATE_EXCEPTIONS=False,
                                  MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port))

    @app.after_request
    async def fail_after_the_view(response):  # runs before the request's commit
        raise RuntimeError("boom")

    async with app.test_app():
        async with app.extensions["db_sessionmaker"]() as db:
            await make_user(db, "alice")
        response = await post(app.test_client(), "/auth/reset_password_request", {"email": "alice@example.com"})
        assert response.status_code == 500
        assert await all_jobs(app) == []


async def test_unknown_kinds_are_refused_when_queued(quiet_app):
    async with quiet_app.app_context():
        async with new_session() as db:
            with pytest.raises(LookupError):
                enqueue(db, "no.such.kind", {})


async def test_a_failed_job_backs_off_then_fails_for_good(database_url, caplog):
    await reset_schema(database_url)
    app = create_app(quiet_config(database_url, JOBS_MAX_ATTEMPTS=3, JOBS_RETRY_SECONDS=30))
    async with app.test_app():
        async with app.app_context():
            async with new_session() as db:
                enqueue(db, "test.record", {"fail": True})
                await commit(db)
        for attempt in (1, 2):
            before = utcnow()
            assert await run_one(app) is True
            [job] = await all_jobs(app)
            assert (job.state, job.attempts, job.last_error) == (QUEUED, attempt, "RuntimeError: asked to fail")
            wait = (job.run_after - before).total_seconds()
            assert retry_delay(app.config, attempt) <= wait < retry_delay(app.config, attempt) + 5
            assert await run_one(app) is False  # not due yet
            await make_due(app)
        assert await run_one(app) is True
        [job] = await all_jobs(app)
        assert (job.state, job.attempts) == (FAILED, 3)
        await make_due(app)
        assert await run_one(app) is False  # failed jobs stay failed…
    assert "job %d (test.record) failed for good after 3 attempts" % job.id in caplog.text

    assert [retry_delay({"JOBS_RETRY_SECONDS": 30}, n) for n in (1, 2, 3, 8, 9, 20)] == \
        [30, 60, 120, 3600, 3600, 3600]  # doubling, at most an hour: ten attempts span hours


async def make_due(app) -> None:
    async with app.app_context():
        async with new_session() as db:
            await db.execute(update(Job).values(run_after=utcnow() - timedelta(seconds=1)))
            await commit(db)


def test_jobs_cli_status_and_retry(database_url):
    """`quart jobs status` counts by kind and state; `quart jobs retry` requeues failed jobs."""
    asyncio.run(reset_schema(database_url))
    app = create_app(quiet_config(database_url))

    async def seed():
        await app.startup()
        try:
            async with app.app_context():
                async with new_session() as db:
                    for state in (FAILED, FAILED, QUEUED):
                        job = enqueue(db, "test.record", {})
                        job.state, job.attempts = state, 10 if state == FAILED else 0
                    await commit(db)
        finally:
            await app.shutdown()

    asyncio.run(seed())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    assert result.output.split("\n")[:2] == ["test.record              failed   2", "test.record              queued   1"]
    result = runner.invoke(args=["jobs", "retry"])
    assert result.output.strip() == "2 job(s) queued again"
    assert runner.invoke(args=["jobs", "status"]).output.strip() == "test.record              queued   3"


# --- competing runners and dying runners: real processes ------------------------------------

class Inbox:
    def __init__(self, delay: float = 0):
        self.messages: list[bytes] = []
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_port():
    return free_port()


def start_smtp(port: int, delay: float = 0) -> tuple[Controller, Inbox]:
    inbox = Inbox(delay)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


def job_runner_process(database_url: str, smtp_port: int, tmp_path: Path, name: str, **env) -> subprocess.Popen:
    """`quart jobs run` as its own process, as an operator would start it."""
    environment = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "x", "BASE_URL": "http://x",
                   "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), "JOBS_POLL_SECONDS": "0.1",
                   "LOG_TO_STDOUT": "1", **env}
    return subprocess.Popen([sys.executable, "-m", "quart", "--app", "microblog", "jobs", "run"],
                            cwd=ROOT, env=environment, stdout=open(tmp_path / f"{name}.log", "w"),
                            stderr=subprocess.STDOUT)


async def queue_mails(app, count: int) -> None:
    from microblog.mail import send_email
    async with app.app_context():
        async with new_session() as db:
            for n in range(count):
                send_email(db, f"message {n}", [f"user{n}@example.com"], "text")
            await commit(db)


async def wait_until(condition, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_two_runner_processes_send_each_mail_once(quiet_app, database_url, smtp_port, tmp_path):
    controller, inbox = start_smtp(smtp_port)
    runners = [job_runner_process(database_url, smtp_port, tmp_path, f"runner{i}") for i in range(2)]
    try:
        async def both_started():  # and able to stop cleanly: a SIGTERM before that would kill one
            return all("job runner started" in (tmp_path / f"runner{i}.log").read_text() for i in range(2))
        await wait_until(both_started, timeout=60, what="both runners to start")
        await queue_mails(quiet_app, 30)
        async def all_done():
            return all(job.state == "done" for job in await all_jobs(quiet_app))
        await wait_until(all_done, what="30 mails")
    finally:
        for runner in runners:
            runner.send_signal(signal.SIGTERM)
        for runner in runners:
            assert runner.wait(10) == 0  # a clean stop
        controller.stop()
    subjects = sorted(message.split(b"Subject: ")[1].split(b"\n")[0].strip() for message in inbox.messages)
    assert subjects == sorted(f"message {n}".encode() for n in range(30))  # each once, none twice
    logs = [(tmp_path / f"runner{i}.log").read_text() for i in range(2)]
    assert all("job runner stopped" in log for log in logs)


async def test_a_job_whose_runner_dies_is_run_again_after_its_lease(quiet_app, database_url, smtp_port, tmp_path):
    quiet_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port)
    silent = socket.create_server(("127.0.0.1", smtp_port))  # accepts, never greets: a send hangs
    await queue_mails(quiet_app, 1)
    runner = job_runner_process(database_url, smtp_port, tmp_path, "doomed", JOBS_LEASE_SECONDS="2")
    try:
        async def claimed():
            return (await all_jobs(quiet_app))[0].state == RUNNING
        await wait_until(claimed, what="the job to be claimed")
    finally:
        runner.kill()  # kill -9: no chance to clean up
        runner.wait(10)
        silent.close()
    [job] = await all_jobs(quiet_app)
    assert (job.state, job.attempts) == (RUNNING, 1)

    controller, inbox = start_smtp(smtp_port)
    try:
        async with quiet_app.app_context():
            async with new_session() as db:
                assert await claim(db, 60) is None  # the lease still holds…
        await asyncio.sleep(max(0, (job.run_after - utcnow()).total_seconds()) + 0.1)
        assert await run_one(quiet_app) is True  # …then anyone may take the job
    finally:
        controller.stop()
    [job] = await all_jobs(quiet_app)
    assert (job.state, job.attempts) == ("done", 2)
    assert len(inbox.messages) == 1


async def test_reset_mail_survives_a_restart_while_smtp_is_down(database_url, smtp_port):
    """Asked for while the mail server is down; the app restarts; the server comes back: the mail
    goes out, once."""
    await reset_schema(database_url)
    config = {**TEST_CONFIG, "DATABASE_URL": database_url, "MAIL_SERVER": "127.0.0.1",
              "MAIL_PORT": smtp_port, "BASE_URL": "https://example.org", "JOBS_RETRY_SECONDS": 0.2,
              "JOBS_POLL_SECONDS": 0.05}
    first = create_app(config)
    async with first.test_app():
        async with first.extensions["db_sessionmaker"]() as db:
            await make_user(db, "alice")
        response = await post(first.test_client(), "/auth/reset_password_request", {"email": "alice@example.com"})
        assert response.status_code == 303

        async def tried():
            return (await all_jobs(first))[0].attempts >= 1 and (await all_jobs(first))[0].state == QUEUED
        await wait_until(tried, what="a failed first attempt")
    # The first app has stopped (a restart); the mail is still owed.
    assert [(job.kind, job.state) for job in await all_jobs(first)] == [("mail.reset_password", QUEUED)]

    controller, inbox = start_smtp(smtp_port)
    try:
        second = create_app(config)
        async with second.test_app():
            async def delivered():
                return [job.state for job in await all_jobs(second)] == ["done"]
            await wait_until(delivered, what="the mail after the restart")
            await asyncio.sleep(0.3)  # time enough for a duplicate, were there one
    finally:
        controller.stop()
    [message] = inbox.messages
    assert b"Subject: [microblog] Reset your password" in message
    assert b"https://example.org/auth/reset_password/" in message


async def test_stopping_the_runner_lets_the_job_in_hand_finish(quiet_app, smtp_port):
    controller, inbox = start_smtp(smtp_port, delay=0.5)
    quiet_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port)
    await queue_mails(quiet_app, 1)
    runner = JobRunner(quiet_app)
    runner.start()
    try:
        async def running():
            return (await all_jobs(quiet_app))[0].state == RUNNING
        await wait_until(running, what="the job to start")
        await runner.stop(timeout=5)
    finally:
        controller.stop()
    assert [job.state for job in await all_jobs(quiet_app)] == ["done"]
    assert len(inbox.messages) == 1


@pytest.mark.parametrize("unreachable", ["sqlite:////nonexistent-folder/microblog.db",
                                         "postgresql://postgres@127.0.0.1:{port}/test"])
async def test_a_runner_that_cannot_reach_the_database_says_so_in_one_line_and_goes_on(unreachable, caplog):
    """Passing trouble (the database down, its connections cut) is a line per attempt in the log,
    as for a request answered 503, not a traceback; the runner keeps polling until it is back."""
    url = normalise_database_url(unreachable.format(port=free_port()))
    app = create_app(quiet_config(url, JOBS_POLL_SECONDS=0.05))
    async with app.test_app():
        runner = JobRunner(app)
        runner.start()
        await asyncio.sleep(0.5)
        await runner.stop(timeout=5)
    claims = [record for record in caplog.records if "could not claim a job" in record.getMessage()]
    assert len(claims) >= 2  # it went on trying
    assert all(record.levelname == "WARNING" and record.exc_info is None and "unreachable" in record.getMessage()
               for record in claims)


async def test_many_failures_of_one_kind_are_summed_up_in_the_log(quiet_app, caplog):
    """100 attempts failing alike (the search index read-only, say) are not 100 warnings: the first
    is logged, the rest counted in a summary line (at most one per kind and error a minute)."""
    quiet_app.config["JOBS_RETRY_SECONDS"] = 3600
    async with quiet_app.app_context():
        async with new_session() as db:
            for n in range(100):
                enqueue(db, "test.record", {"fail": True, "n": n})
            await commit(db)
    caplog.set_level(logging.INFO, logger="microblog.jobs")
    runner = JobRunner(quiet_app)
    runner.start()

    async def all_tried():
        return all(job.attempts == 1 and job.state == QUEUED for job in await all_jobs(quiet_app))
    await wait_until(all_tried, timeout=120, what="100 failed attempts")
    await runner.stop(timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "microblog.jobs"]
    assert 1 <= len(lines) <= 3, lines
    assert "(test.record) attempt 1 failed" in lines[0] and "RuntimeError: asked to fail" in lines[0]
    assert any("test.record: 99 more failed attempts in the last" in line
               and "RuntimeError: asked to fail" in line for line in lines), lines
