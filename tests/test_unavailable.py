"""Passing database trouble is a clear 503 with Retry-After, not a 500: a read-only database (a
full disk, maintenance) still serves every page that only reads; a database that cannot be reached
says so."""
import asyncio
import time

import pytest
from sqlalchemy import select, text as sql

from conftest import TEST_CONFIG, free_port, login, make_post, make_user, post, reset_schema, text_of
from helpers import HTMX, logged_in
from microblog import create_app
from microblog.accounts.models import User
from microblog.db import get_session, make_engine
from microblog.posts.models import Post

READ_ONLY = "The site is read-only for now"
UNREACHABLE = "The site cannot reach its database at the moment."


def config(url: str) -> dict:
    return {**TEST_CONFIG, "DATABASE_URL": url, "PROPAGATE_EXCEPTIONS": False, "JOBS_RUN_IN_WEB": False}


async def test_a_read_only_database_serves_reads_and_refuses_writes_clearly(tmp_path):
    path = tmp_path / "blog.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    await reset_schema(url)
    writable = create_app(config(url))
    async with writable.test_app():
        async with writable.extensions["db_sessionmaker"]() as db:
            alice = await make_user(db, "alice")
            await make_post(db, alice, "written before the disk filled up")
        browser = writable.test_client()
        assert (await login(browser, "alice")).status_code == 303
        await browser.get("/index")

    read_only = create_app(config(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"))
    async with read_only.test_app():
        client = read_only.test_client()
        client.cookie_jar = browser.cookie_jar  # the same browser, after the disk filled up
        for url in ("/index", "/explore", "/user/alice"):
            response = await client.get(url)
            assert response.status_code == 200, url
            assert "written before the disk filled up" in await text_of(response)

        response = await post(client, "/post", {"post": "this cannot be saved"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
        assert READ_ONLY in await text_of(response)
        response = await post(client, "/post", {"post": "this cannot be saved"}, htmx=True)
        assert response.status_code == 503
        assert "nothing can be saved" in await text_of(response)

        visitor = read_only.test_client()
        response = await login(visitor, "alice")  # a log-in writes (its throttle, its session)
        assert response.status_code == 503
        assert READ_ONLY in await text_of(response)


@pytest.mark.parametrize("url", [
    "sqlite+aiosqlite:////nonexistent-folder/blog.sqlite",
    f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test",  # nothing listens there
], ids=["sqlite", "postgresql"])  # ids: the same in every xdist worker (not the port)
@pytest.mark.parametrize("admins", [[], ["admin@example.com"]])
async def test_an_unreachable_database_is_a_503_saying_so(url, admins):
    app = create_app({**config(url), "ADMINS": admins})
    async with app.test_app():
        client = app.test_client()
        response = await client.get("/explore")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
        page = await text_of(response)
        assert UNREACHABLE in page
        assert "The administrator has been notified" not in page
        response = await client.get("/explore", headers={"HX-Request": "true"})
        assert response.status_code == 503 and "<html" not in await text_of(response)


BUSY = "The site is busy at the moment. Please try again in a moment."


async def test_a_database_locked_elsewhere_is_a_503_after_a_short_wait(database_url):
    """A write lock held by someone else (a backup, a migration): writes wait their timeout, then
    get a clear 503; on SQLite (WAL) reads go on meanwhile."""
    await reset_schema(database_url)
    app = create_app({**config(database_url), "DB_BUSY_TIMEOUT_MS": 300, "DB_LOCK_TIMEOUT_MS": 300})
    async with app.test_app():
        async with app.extensions["db_sessionmaker"]() as db:
            await make_user(db, "alice")
        client = await logged_in(app, "alice")
        await client.get("/index")

        engine = make_engine(database_url)
        async with engine.connect() as holder:
            if engine.dialect.name == "sqlite":
                await holder.exec_driver_sql("BEGIN IMMEDIATE")
            elif engine.dialect.name == "mysql":
                await holder.exec_driver_sql("LOCK TABLES post WRITE")
            else:
                await holder.exec_driver_sql("BEGIN")
                await holder.exec_driver_sql("LOCK TABLE post IN ACCESS EXCLUSIVE MODE")
            response = await post(client, "/post", {"post": "while locked"})
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "60"
            assert BUSY in await text_of(response)
            response = await post(client, "/post", {"post": "while locked"}, htmx=True)
            assert response.status_code == 503 and BUSY in await text_of(response)
            if engine.dialect.name == "sqlite":
                assert (await client.get("/index")).status_code == 200
            if engine.dialect.name == "mysql":
                await holder.exec_driver_sql("UNLOCK TABLES")
            await holder.rollback()
        await engine.dispose()
        assert (await post(client, "/post", {"post": "after the lock"})).status_code == 303


@pytest.mark.parametrize("hang", ["in the view", "in the database"])
async def test_a_page_that_takes_too_long_is_cancelled_with_a_503_and_saves_nothing(database_url, hang):
    """REQUEST_TIMEOUT: a view still running after it (waiting on something that hangs) is
    cancelled; what it had staged is not saved, and the worker serves the next request. A query
    cancelled on PostgreSQL stops there; SQLite's thread runs it to its end, then drops the
    connection (its own timeouts are short: the busy timeout ends a wait for a lock long before)."""
    if hang == "in the database" and database_url.startswith("sqlite"):
        pytest.skip("SQLite cannot stop a query from the event loop (PostgreSQL and MariaDB cancel theirs)")
    await reset_schema(database_url)
    app = create_app(config(database_url))

    @app.post("/test/slow")
    async def slow():
        db = get_session()
        await Post.publish(db, await db.get_one(User, 1), "never saved")
        if hang == "in the view":
            await asyncio.sleep(30)
        else:
            await db.execute(sql("SELECT pg_sleep(30)" if db.bind.dialect.name == "postgresql" else "SELECT SLEEP(30)"))
        return "not reached"

    async with app.test_app():
        async with app.extensions["db_sessionmaker"]() as db:
            await make_user(db, "alice")
        client = await logged_in(app, "alice")  # at the usual limit: a loaded machine may take a while
        app.config["REQUEST_TIMEOUT"] = 0.3  # read on every request
        for htmx in (False, True):
            started = time.monotonic()
            response = await post(client, "/test/slow", htmx=htmx)
            assert response.status_code == 503 and response.headers["Retry-After"] == "60"
            assert BUSY in await text_of(response)
            assert time.monotonic() - started < 10
        app.config["REQUEST_TIMEOUT"] = 20  # the worker serves the next request (at the usual limit)
        assert (await post(client, "/post", {"post": "afterwards"})).status_code == 303
        async with app.extensions["db_sessionmaker"]() as db:
            assert list(await db.scalars(select(Post.body))) == ["afterwards"]


async def test_no_free_connection_is_a_503_for_pages_and_for_log_ins(database_url):
    """Every connection of the pool in use for longer than DB_POOL_TIMEOUT: a page and a log-in
    answer 503 "busy" with Retry-After, not a 500; so does a log-in that got a connection but whose
    throttle (a separate transaction) finds none; once connections are free again all works."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite opens as many connections as a burst needs: there is no pool limit to run out of")
    await reset_schema(database_url)
    app = create_app({**config(database_url), "DB_POOL_SIZE": 1, "DB_POOL_TIMEOUT": 0.3})
    async with app.test_app():
        async with app.extensions["db_sessionmaker"]() as db:
            await make_user(db, "alice")
        client = await logged_in(app, "alice")
        engine = app.extensions["db_engine"]
        async with engine.connect() as first, engine.connect() as second:
            await first.exec_driver_sql("SELECT 1")
            await second.exec_driver_sql("SELECT 1")
            for htmx in (False, True):
                response = await client.get("/index", headers=HTMX if htmx else {})
                assert response.status_code == 503 and response.headers["Retry-After"] == "60"
                assert BUSY in await text_of(response)
            response = await login(app.test_client(), "alice")
            assert response.status_code == 503 and BUSY in await text_of(response)
        async with engine.connect() as held:  # one left: the log-in's own, none for its throttle
            await held.exec_driver_sql("SELECT 1")
            response = await login(app.test_client(), "alice")
            assert response.status_code == 503 and BUSY in await text_of(response)
        assert (await client.get("/index")).status_code == 200
        assert (await login(app.test_client(), "alice")).status_code == 303
