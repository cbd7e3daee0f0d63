"""Outages seen by an outside probe under load (hardening, second round): PostgreSQL refusing
connections and its connections cut under the pool, answered 503 with Retry-After, logged in a
line and mailed at most once, then healed. Each on a database of its own, taken offline here."""
import asyncio
import logging
import threading
import time
from collections import Counter
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from conftest import POSTGRES_URL, TEST_CONFIG, free_port, make_user, post, reset_schema, text_of
from helpers import logged_in
from microblog import create_app
from microblog.config import normalise_database_url
from microblog.db import first_line, make_engine
from mail.support import SmtpServer

ADMINS = ["admin@example.com"]


@asynccontextmanager
async def postgres_database(name: str):
    """A PostgreSQL database of the test's own (`test_faults_…`), with the models' tables; its URL."""
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    server = normalise_database_url(POSTGRES_URL).rsplit("/", 1)[0]
    admin = make_engine(f"{server}/postgres")
    admin_conn = await (await admin.connect()).execution_options(isolation_level="AUTOCOMMIT")
    await admin_conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin_conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = f"{server}/{name}"
    try:
        await reset_schema(url)
        yield url, admin_conn
    finally:
        await admin_conn.exec_driver_sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        await admin_conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin_conn.close()
        await admin.dispose()


async def terminate_connections(admin_conn, name: str) -> int:
    return await admin_conn.scalar(text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"), {"name": name})


def outage_app(url: str, smtp_port: int, **config):
    """As in production: errors reach the handlers, are logged and mailed to ADMINS."""
    return create_app({**TEST_CONFIG, "DATABASE_URL": url, "PROPAGATE_EXCEPTIONS": False, "JOBS_RUN_IN_WEB": False,
                       "REPORT_ERRORS": True, "ADMINS": ADMINS, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port,
                       "MAIL_DEFAULT_SENDER": "microblog <no-reply@example.org>", **config})


async def reported(app) -> None:
    while app.background_tasks:
        await asyncio.gather(*app.background_tasks, return_exceptions=True)


def tracebacks(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


@pytest.fixture
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


async def test_postgresql_refusing_connections_is_a_503_logged_in_a_line_and_mailed_once(smtp, caplog):
    """ALTER DATABASE … ALLOW_CONNECTIONS false (maintenance, a failover): "not currently accepting
    connections" is a 503 with Retry-After for pages, posts and log-ins alike, a line in the log
    per kind of trouble (not a traceback per request), one mail to the admins for the incident;
    once connections are allowed again, the site answers as before."""
    name = "test_faults_refusing"
    async with postgres_database(name) as (url, admin):
        app = outage_app(url, smtp.port)
        async with app.test_app():
            async with app.extensions["db_sessionmaker"]() as db:
                await make_user(db, "alice")
            client = await logged_in(app, "alice")
            assert (await client.get("/index")).status_code == 200

            await admin.exec_driver_sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            await terminate_connections(admin, name)
            caplog.clear()
            statuses = []
            assert "cannot reach its database" in await text_of(await client.get("/index"))
            for n in range(10):
                for response in (await client.get("/index"), await client.get("/explore"),
                                 await post(client, "/post", {"post": f"refused {n}"}),
                                 await post(app.test_client(), "/auth/login",
                                            {"nickname": "alice", "password": "correct horse"})):
                    statuses.append(response.status_code)
                    assert response.status_code != 503 or response.headers["Retry-After"] == "60"
            await reported(app)
            assert set(statuses) == {503}, statuses
            assert tracebacks(caplog) == []
            lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
            assert 1 <= len(lines) <= 5, lines  # a line per kind of trouble, not one per request
            # The first of the outage (a connection cut, or refused: the same kind) is logged; the
            # others are counted in a line a minute.
            assert all(line.startswith("503 unreachable: ") for line in lines), lines
            await asyncio.sleep(0.3)  # a mail sent late would show by now
            assert len(smtp.messages) <= 1, [m["Subject"] for m in smtp.messages]  # one for the outage
            print(f"\n{len(statuses)} requests while PostgreSQL refused connections: {set(statuses)}, "
                  f"{len(lines)} log line(s), {len(smtp.messages)} mail(s)")

            await admin.exec_driver_sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            assert (await client.get("/index")).status_code == 200
            assert (await post(client, "/post", {"post": "back again"})).status_code == 303


async def test_the_pool_s_connections_terminated_are_503_or_200_then_200(smtp, caplog):
    """The pool's connections cut by pg_terminate_backend (a restart, a failover), again and again,
    idle or while requests use them, some of those cancelled by a short REQUEST_TIMEOUT: every
    answer is 503 or a success, never 500; a connection left in a bad state ("another operation is
    in progress": the server's farewell read, its hang-up not yet) fails one request with 503;
    then every request is a 200."""
    name = "test_faults_terminated"
    async with postgres_database(name) as (url, admin):
        app = outage_app(url, smtp.port, DB_POOL_SIZE=4)
        async with app.test_app():
            async with app.extensions["db_sessionmaker"]() as db:
                await make_user(db, "alice")
            clients = [await logged_in(app, "alice") for _ in range(8)]
            app.config["REQUEST_TIMEOUT"] = 0.05
            statuses = Counter()
            for round_ in range(20):
                requests = [asyncio.ensure_future(post(client, "/post", {"post": "during the cut"}))
                            for client in clients for _ in range(3)]
                requests += [asyncio.ensure_future(client.get("/index")) for client in clients]
                await asyncio.sleep(0.005 * (round_ % 5))
                await terminate_connections(admin, name)
                statuses.update(r.status_code for r in await asyncio.gather(*requests))
            assert set(statuses) <= {200, 303, 503}, statuses
            app.config["REQUEST_TIMEOUT"] = 20
            again = [r.status_code for r in await asyncio.gather(*(client.get("/index") for client in clients))]
            assert again == [200] * len(clients)
            await reported(app)
        print(f"\n20 rounds of pg_terminate_backend under 32 requests: {dict(statuses)}")
        assert tracebacks(caplog) == []


async def test_a_connection_cut_in_the_pool_is_replaced_when_taken():
    """Pooled connections whose backends are terminated while the worker is busy (its event loop
    blocked: the server's farewell and hang-up both wait in the socket), taken from the pool just
    after asyncpg has read the farewell and not yet the hang-up, failed their first statement
    ("another operation (2) is in progress"); they are replaced when taken, and no statement fails."""
    name = "test_faults_bad_state"
    async with postgres_database(name) as (url, admin):
        engine = make_engine(url, pool_size=2)
        try:
            async with engine.connect() as first, engine.connect() as second:
                pids = [await conn.scalar(text("SELECT pg_backend_pid()")) for conn in (first, second)]
                await first.rollback(), await second.rollback()

            def terminate() -> None:  # blocks this thread, and the event loop with it
                nonlocal terminated
                async def run():
                    other = make_engine(url)
                    async with other.connect() as conn:
                        cut = await conn.scalar(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                                     f"WHERE pid IN ({pids[0]}, {pids[1]})"))
                    assert cut == 2
                    await other.dispose()
                asyncio.run(run())
                terminated = True
                time.sleep(0.3)  # the farewell and the hang-up arrive meanwhile

            terminated = False
            thread = threading.Thread(target=terminate)
            thread.start()
            thread.join()
            assert terminated
            # The loop runs this task first, then reads the farewell; the hang-up, next time round,
            # again after this task has run.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            outcomes = []
            for _ in range(3):
                try:
                    async with engine.connect() as conn:
                        outcomes.append(await conn.scalar(text("SELECT 1")))
                except Exception as error:
                    outcomes.append(first_line(error))
            print(f"\nstatements after the cut: {outcomes}")
            assert outcomes == [1, 1, 1]
        finally:
            await engine.dispose()
