"""The index never out of step with the database: a post committed is found even when the worker
died before indexing it, a deleted post is never shown, `quart search reindex` finds what was
written while the index was missing, and two workers index at once without a lock error."""
import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import empty_database, make_post, make_user
from microblog import create_app
from microblog.db import new_session
from microblog.jobs import FAILED, Job, claim, run_one
from microblog.search.query import parse
from microblog.search.whoosh import WhooshBackend

from .support import jobs_done, logged_in, post_ids, publish, search
from helpers import post as post_form

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def quiet_app(app_config):
    """An app whose worker runs no jobs by itself: the test decides when a runner runs."""
    await empty_database(app_config["DATABASE_URL"])
    app = create_app({**app_config, "JOBS_RUN_IN_WEB": False})
    async with app.test_app():
        yield app


def indexes_by_job(app) -> bool:
    return app.extensions["search_backend"].indexes_by_job


async def found_ids(app, query: str) -> list[int]:
    """What the backend itself answers (before the page re-checks against the database)."""
    async with app.app_context():
        async with new_session() as db:
            return (await app.extensions["search_backend"].search(db, parse(query), 0, 100)).ids


async def test_found_after_the_worker_died_between_commit_and_indexing(quiet_app):
    async with quiet_app.extensions["db_sessionmaker"]() as db:
        await make_user(db, "alice")
    client = await logged_in(quiet_app, "alice")
    await publish(client, "Tea with lemon is my favourite drink")
    if indexes_by_job(quiet_app):
        assert post_ids(await search(client, "lemon")) == []  # committed, not indexed yet
        async with quiet_app.app_context():  # a runner claims the job, then dies
            async with new_session() as db:
                job = await claim(db, lease_seconds=0.01)
        assert job is not None and job.kind == "search.sync"
        await asyncio.sleep(0.05)  # its lease runs out
        assert await run_one(quiet_app) is True  # another runner takes the job
    assert post_ids(await search(client, "lemon")) == [1]


async def test_a_deleted_post_is_never_shown(quiet_app):
    async with quiet_app.extensions["db_sessionmaker"]() as db:
        await make_user(db, "alice")
    client = await logged_in(quiet_app, "alice")
    await publish(client, "Tea with lemon")
    await publish(client, "More tea with lemon")
    while await run_one(quiet_app):
        pass
    assert sorted(post_ids(await search(client, "lemon"))) == [1, 2]
    response = await post_form(client, "/post/1/delete")
    assert response.status_code == 303
    # The index still names it until the job runs: the page checks with the database.
    page = await search(client, "lemon")
    assert post_ids(page) == [2] and "1 post found" in page
    while await run_one(quiet_app):
        pass
    assert await found_ids(quiet_app, "lemon") == [2]
    async with quiet_app.app_context():
        async with new_session() as db:
            assert not (await db.scalars(select(Job).where(Job.state == FAILED))).all()


async def test_an_index_with_no_document_finds_nothing(quiet_app):
    """A new site's first post deleted before it was indexed: the index is created holding no
    document at all, and a search finds nothing instead of failing (Whoosh's reader of an empty
    index has no columns); so after a reindex of a site with no posts."""
    async with quiet_app.extensions["db_sessionmaker"]() as db:
        await make_user(db, "alice")
    client = await logged_in(quiet_app, "alice")
    await publish(client, "Tea with lemon")
    assert (await post_form(client, "/post/1/delete")).status_code == 303
    for rebuilt in (False, True):
        while await run_one(quiet_app):
            pass
        if rebuilt:
            async with quiet_app.app_context():
                async with new_session() as db:
                    await quiet_app.extensions["search_backend"].rebuild(db, 0, lambda done: None)
        for query in ("lemon", "anything"):
            page = await search(client, query)
            assert post_ids(page) == [] and "No posts match your search." in page


def reindex_command(app):
    """`quart search reindex` as the operator runs it, on an app of its own (the command opens and
    closes its own engine; in a thread: it runs its own event loop)."""
    command_app = create_app({**app.config})
    return command_app.test_cli_runner().invoke(args=["search", "reindex"])


async def test_reindex_finds_posts_written_while_the_index_was_missing(app, alice_client, db, alice):
    await publish(alice_client, "Tea with lemon")
    await jobs_done(app)
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"], ignore_errors=True)
    await make_post(db, alice, "lemon cake, written straight into the database")
    await make_post(db, alice, "lemon tart")
    if indexes_by_job(app):
        assert post_ids(await search(alice_client, "lemon")) == []  # no index: nothing, and no error
    finished = await asyncio.to_thread(reindex_command, app)
    assert finished.exit_code == 0, finished.output
    backend = app.extensions["search_backend"].name
    assert re.search(rf"^3 posts indexed by {backend} in \d+\.\d s$", finished.output, re.M), finished.output
    assert sorted(post_ids(await search(alice_client, "lemon"))) == [1, 2, 3]


def job_runner(app, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
           "SECRET_KEY": "x", "BASE_URL": "http://example.org", "JOBS_POLL_SECONDS": "0.05", "SEARCH_BACKEND": "whoosh",
           "LOG_TO_STDOUT": "1", "MICROBLOG_DOTENV": "/nonexistent/.env"}
    return subprocess.Popen([sys.executable, "-m", "quart", "--app", "microblog", "jobs", "run"],
                            cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)


@pytest.fixture
async def whoosh_app(app_config):
    """Whoosh whatever the database (SEARCH_BACKEND=whoosh is a choice on PostgreSQL too)."""
    await empty_database(app_config["DATABASE_URL"])
    app = create_app({**app_config, "SEARCH_BACKEND": "whoosh"})
    async with app.test_app():
        yield app


async def test_two_workers_indexing_at_once(whoosh_app, tmp_path):
    """This worker's runner and a `quart jobs run` process share the index: every post is found,
    no job fails, no lock error is logged."""
    app = whoosh_app
    async with app.extensions["db_sessionmaker"]() as db:
        await make_user(db, "alice")
    alice_client = await logged_in(app, "alice")
    other = job_runner(app, tmp_path / "runner.log")
    try:
        await asyncio.sleep(1.5)  # the other runner is up
        for n in range(30):
            await publish(alice_client, f"post number {n} about lemons")
        jobs = await jobs_done(app, timeout=60)
    finally:
        other.terminate()
        other.wait(15)
    assert len(jobs) == 30 and all(job.state == "done" for job in jobs)
    assert sorted(await found_ids(app, "lemons")) == list(range(1, 31))
    assert "LockError" not in (tmp_path / "runner.log").read_text()


def test_two_writers_at_once_wait_for_each_other(tmp_path):
    """Two workers' backends on one directory, writing at the same moment in threads."""
    from datetime import datetime, timezone

    from concurrent.futures import ThreadPoolExecutor

    from microblog.search.whoosh import document
    first, second = WhooshBackend(str(tmp_path)), WhooshBackend(str(tmp_path))
    when = datetime.now(timezone.utc)

    def write(backend, start):
        for n in range(start, start + 20):
            backend._write([document(n, f"lemon {n}", "en", when)], [])

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda args: write(*args), [(first, 1), (second, 21)]))
    assert sorted(first._search(parse("lemon"), 0, 100).ids) == list(range(1, 41))
