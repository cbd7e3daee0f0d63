"""A mail server that accepts connections and never answers holds one of the runner's tasks, not
the runner: search indexing queued behind the mail runs meanwhile. A recipient refused for good
(5xx) fails the job at once; a passing refusal (4xx) is retried."""
import socket
import time

import pytest
from sqlalchemy import select

from conftest import free_port, make_post, make_user, reset_schema
from microblog import create_app, jobs
from microblog.db import commit, new_session
from microblog.jobs import JobRunner, run_one
from microblog.mail import SEND, send_email
from microblog.posts import Post
from microblog.search import SYNC, backend
from microblog.search.query import parse

from .conftest import mail_config
from .support import SmtpServer, all_jobs, wait_until


async def test_a_hanging_mail_server_does_not_hold_search_indexing(database_url, tmp_path):
    port = free_port()
    silent = socket.create_server(("127.0.0.1", port))  # the kernel accepts; nobody ever answers
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, port, JOBS_RUN_IN_WEB=False, MAIL_TIMEOUT=120,
                                 SEARCH_BACKEND="whoosh", SEARCH_INDEX_DIR=str(tmp_path / "index")))
    runner = JobRunner(app)
    try:
        async with app.test_app():
            async with app.app_context():
                async with new_session() as db:
                    alice = await make_user(db, "alice")
                    posts = [await make_post(db, alice, f"post number {n}") for n in range(5)]
                    for n in range(3):  # queued first: due before the indexing
                        send_email(db, f"message {n}", [f"user{n}@example.com"], "text")
                    for post in posts:
                        jobs.enqueue(db, SYNC, {"post_id": post.id})
                    await commit(db)
            started = time.monotonic()
            runner.start()
            try:
                await _indexing_goes_on(app, started)
            finally:
                await runner.stop(timeout=0.2)  # the hanging send is cut short: retried after its lease
    finally:
        silent.close()


async def _indexing_goes_on(app, started: float) -> None:
    async def indexed():
        return all(job.state == "done" for job in await all_jobs(app) if job.kind == SYNC)
    await wait_until(indexed, timeout=60, what="the indexing while the mail hangs")
    took = time.monotonic() - started
    mail = [(job.state, job.attempts) for job in await all_jobs(app) if job.kind == SEND]
    # One mail in hand (its first attempt, still waiting for a greeting), the others queued.
    assert sorted(mail) == [("queued", 0), ("queued", 0), ("running", 1)]
    assert took < app.config["MAIL_TIMEOUT"]
    async with app.app_context():
        async with new_session() as db:
            ids = [post.id for post in await db.scalars(select(Post))]
            assert sorted((await backend().search(db, parse("number"), 0, 10)).ids) == sorted(ids)


@pytest.mark.parametrize("refusal, state, attempts", [("550 5.1.1 No such user here", "failed", 1),
                                                      ("450 4.2.1 Mailbox busy, try later", "queued", 1)])
async def test_a_refusal_for_good_is_final_a_passing_one_retried(database_url, refusal, state, attempts, caplog):
    smtp = SmtpServer(free_port(), refuse="gone@example.com", refusal=refusal).start()
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, smtp.port, JOBS_RUN_IN_WEB=False))
    try:
        async with app.test_app():
            async with app.app_context():
                async with new_session() as db:
                    send_email(db, "hello", ["gone@example.com"], "text")
                    await commit(db)
            assert await run_one(app) is True
            [job] = await all_jobs(app)
    finally:
        smtp.stop()
    assert (job.state, job.attempts) == (state, attempts)
    assert refusal.split()[0] in job.last_error
    assert ("a final failure, not retried" in caplog.text) == (state == "failed")
