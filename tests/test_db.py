"""The database layer: slow queries are logged; SQLite runs in WAL mode with foreign keys; one
commit per request, and callbacks after it."""
import asyncio
import logging
import sqlite3
import time

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from conftest import flashes, login, make_user, post, text_of
from microblog import create_app
from microblog.db import commit, make_engine, new_session, on_commit, rollback
from microblog.posts import Post


async def test_slow_queries_are_logged(database_url, caplog):
    engine = make_engine(database_url, slow_query_seconds=1e-9)
    with caplog.at_level(logging.WARNING, logger="microblog.slow_query"):
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            with pytest.raises(Exception):
                await conn.execute(text("SELECT * FROM no_such_table"))
            await conn.rollback()
            await conn.execute(text("SELECT 2"))
    await engine.dispose()
    logged = [r.getMessage() for r in caplog.records if r.name == "microblog.slow_query"]
    assert any("SELECT 1" in m for m in logged) and any("SELECT 2" in m for m in logged)


async def test_a_burst_keeps_the_pools_connections_and_opens_at_most_as_many_again(database_url):
    """A server database's connections are kept and reused: a burst opens at most the pool's size
    again (they wait their turn beyond that, up to the pool's timeout), and the pool's own stay."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite opens files, not server connections")
    engine = make_engine(database_url, pool_size=2, pool_timeout=5)
    opened = []
    event.listen(engine.sync_engine, "connect", lambda *_: opened.append(1))

    async def slow_query():
        async with engine.connect() as conn:
            await conn.execute(text("SELECT SLEEP(0.05)" if "mysql" in database_url else "SELECT pg_sleep(0.05)"))

    await asyncio.gather(*(slow_query() for _ in range(8)))
    assert len(opened) == 4
    await asyncio.gather(*(slow_query() for _ in range(2)))
    await engine.dispose()
    assert len(opened) == 4  # two kept, reused


async def test_fast_queries_are_not_logged(database_url, caplog):
    engine = make_engine(database_url, slow_query_seconds=60)
    with caplog.at_level(logging.WARNING, logger="microblog.slow_query"):
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    await engine.dispose()
    assert not [r for r in caplog.records if r.name == "microblog.slow_query"]


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite'}")
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await engine.dispose()


# --- SQLite on the event loop's thread (microblog/sqlite.py) ---------------------------------

async def _ticks_while(work) -> tuple[object, int]:
    """(what `work` answers, how often the event loop ran something else meanwhile)."""
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        return await work, ticks
    finally:
        ticker.cancel()


async def test_sqlite_waits_for_a_lock_held_elsewhere_without_stalling_other_requests(tmp_path):
    path = tmp_path / "x.sqlite"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=5000)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    outside = sqlite3.connect(path, isolation_level=None)  # a writer outside the app (a shell)
    outside.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.5, outside.execute, "COMMIT")

    async def write():
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM t"))).scalar()

    started = time.monotonic()
    written, ticks = await _ticks_while(write())
    assert written == 1 and time.monotonic() - started >= 0.45
    assert ticks >= 20  # the loop went on serving while the write waited (0.5 s of 10 ms ticks)
    outside.close()
    await engine.dispose()


async def test_sqlite_gives_up_on_a_lock_held_past_the_busy_timeout(tmp_path):
    path = tmp_path / "x.sqlite"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=300)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    outside = sqlite3.connect(path, isolation_level=None)
    outside.execute("BEGIN IMMEDIATE")

    async def write():
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))

    with pytest.raises(OperationalError, match="locked"):
        await _ticks_while(write())
    outside.execute("ROLLBACK")
    async with engine.begin() as conn:  # the connection is fine for the next request
        await conn.execute(text("INSERT INTO t VALUES (2)"))
        assert (await conn.execute(text("SELECT n FROM t"))).scalars().all() == [2]
    outside.close()
    await engine.dispose()


# --- one commit per request, and on_commit ---------------------------------------------------

async def test_on_commit_runs_after_a_commit_never_after_a_rollback(app_context):
    ran = []
    async with new_session() as session:
        on_commit(lambda: ran.append("rolled back"), session)
        await rollback(session)
        await commit(session)
        assert ran == []

        async def later():
            ran.append("async")
        on_commit(lambda: ran.append("committed"), session)
        on_commit(later, session)
        on_commit(lambda: 1 / 0, session)  # a failing callback is logged, the others still run
        on_commit(lambda: ran.append("after the failure"), session)
        await commit(session)
        assert ran == ["committed", "async", "after the failure"]
        await commit(session)
        assert len(ran) == 3  # once


@pytest.fixture
def failing_app_config(app_config):
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


async def make_commits_fail(app, db) -> None:
    """The request's COMMIT itself fails, as a full disk or a deferred constraint makes it fail:
    a real constraint checked at COMMIT on each database (a deferred constraint trigger on
    PostgreSQL; on SQLite a dangling foreign key with foreign keys deferred to the commit)."""
    if db.bind.dialect.name == "mysql":
        pytest.skip("MariaDB checks every constraint at once: nothing can make its COMMIT fail on demand")
    if db.bind.dialect.name == "postgresql":
        await db.execute(text("CREATE FUNCTION refuse_at_commit() RETURNS trigger AS $$ "
                              "BEGIN RAISE EXCEPTION 'refused at commit'; END $$ LANGUAGE plpgsql"))
        await db.execute(text("CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON post "
                              "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()"))
    else:
        await db.execute(text("CREATE TRIGGER dangling_follow AFTER INSERT ON post BEGIN "
                              "INSERT INTO followers VALUES (NEW.user_id, 999999, NEW.timestamp); END"))

        @event.listens_for(app.extensions["db_engine"].sync_engine, "begin")  # this app's engine only
        def defer_foreign_keys(conn):
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    await db.commit()


@pytest.mark.parametrize("htmx", [False, True])
async def test_a_failed_commit_is_an_error_and_no_success_is_shown(failing_app_config, htmx):
    from conftest import reset_schema
    await reset_schema(failing_app_config["DATABASE_URL"])
    app = create_app(failing_app_config)
    async with app.test_app():
        async with app.extensions["db_sessionmaker"]() as db:
            await make_user(db, "alice")
            await make_commits_fail(app, db)
        client = app.test_client()
        assert (await login(client, "alice")).status_code == 303
        await client.get("/index")  # the welcome message is shown and gone

        response = await post(client, "/post", {"post": "never saved"}, htmx=htmx)
        assert response.status_code == 500
        answer = await text_of(response)
        assert "Your post is now live!" not in answer and "never saved" not in answer
        page = await text_of(await client.get("/index"))
        assert flashes(page) == []  # no "Your post is now live!" afterwards either
        assert "never saved" not in page
        async with app.extensions["db_sessionmaker"]() as db:
            assert await db.scalar(select(func.count()).select_from(Post)) == 0
