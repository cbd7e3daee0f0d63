"""The database: one engine per Hypercorn worker, one session and **one commit per request**.

Models and services stage changes (`add`, `flush`) and never commit. The request's session
commits once, here, after the view has answered and before a byte of the answer is sent: a
successful answer (status < 400) commits, an error answer rolls back. A commit that fails becomes
the error page instead (errors.py), so nobody sees a success message for something not saved.
Callbacks given to `on_commit` run after a successful commit only.
"""
import asyncio
import errno
import logging
import sqlite3
import time
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable

import asyncpg
from quart import Quart, Response, current_app, g, has_request_context, request
from sqlalchemy import DateTime, MetaData, TypeDecorator, event, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError, TimeoutError as SQLAlchemyTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from . import mariadb, postgresql, sqlite
from .sqlite_writer_queue import queue_writers

log = logging.getLogger("microblog.db")
slow_query_log = logging.getLogger("microblog.slow_query")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stored in UTC; always timezone-aware in Python (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name in ("sqlite", mariadb.DIALECT) else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Every feature's models derive from this; their tables share one MetaData."""

    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


# --- engine --------------------------------------------------------------------------------

def make_engine(url: str, slow_query_seconds: float | None = None, *, busy_timeout_ms: int = 5000,
                statement_timeout_ms: int = 0, lock_timeout_ms: int = 0,
                pool_timeout: float = 30, pool_size: int = 10) -> AsyncEngine:
    """An engine; SQL parameters (post texts, ids) never reach the logs. The timeouts are the
    web app's (a lock held elsewhere must not hang every request); migrations run without them.
    A server database's connections are kept, `pool_size` of them (SQLAlchemy's default, 5, was
    too few: a connection opened for a burst and closed after it costs a PostgreSQL process, its
    prepared statements and asyncpg's set-up; under 32 clients, 100 were opened every 10 s), and as
    many again may be opened for a burst: a log-in holds two at once (its own and the throttle's),
    so a pool with no room beyond its size would stall a burst of log-ins until the timeout. A
    request waits up to `pool_timeout` for one, then answers 503."""
    options: dict = {"hide_parameters": True}
    server_pool = {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        # Statements run on the event loop's thread (sqlite.py); a locked database is waited
        # for (busy_timeout_ms) in a thread. `pool_size` connections are kept and any number more
        # opened for a burst (a file handle each): requests waiting for their turn to write hold
        # theirs, and a page that only reads must not wait behind them for one (with SQLAlchemy's
        # 5 + 10, reads stalled while 64 people logged in at once).
        engine = create_async_engine(url, async_creator=sqlite.connector(url, busy_timeout_ms),
                                     pool_size=pool_size, max_overflow=-1, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        queue_writers(engine.sync_engine, busy_timeout_ms)
    elif url.startswith("mysql"):
        engine = create_async_engine(url, pool_pre_ping=True, pool_recycle=3600, isolation_level="READ COMMITTED",
                                     **server_pool, **options)
        mariadb.configure(engine, statement_timeout_ms, lock_timeout_ms)
    else:
        # asyncpg prepares every statement, and after five runs PostgreSQL plans it once for all
        # (a generic plan): the timeline has a statement per shape of reader (posts/models.py), so
        # that plan suits everyone who gets it, and planning a timeline each time cost more than
        # running it (0.7-1 ms of PostgreSQL's CPU a page). No ping per checkout: a connection whose
        # server hung up is replaced when taken (postgresql.py); one cut while in use fails its
        # request with 503, and the pool then replaces all of its connections.
        settings = {name: str(value) for name, value in (
            ("statement_timeout", statement_timeout_ms), ("lock_timeout", lock_timeout_ms)) if value}
        engine = create_async_engine(url, connect_args={"server_settings": settings}, **server_pool, **options)
        postgresql.configure(engine)
    if slow_query_seconds:
        _log_slow_queries(engine.sync_engine, slow_query_seconds)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets several workers read while one writes; foreign keys make cascades real.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _log_slow_queries(engine: Engine, threshold: float) -> None:
    # The start time lives on the statement's own execution context: a failed statement
    # (a lost uniqueness race) leaves nothing behind.
    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):
        context.microblog_query_start = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - context.microblog_query_start
        if elapsed >= threshold:
            slow_query_log.warning("slow query (%.3fs) in %s: %s", elapsed, _where(), statement)


def _where() -> str:
    """The request a query ran for, by its route's pattern (never its URL: a reset token is a
    password), else "no request" (a job, a command)."""
    if not has_request_context():
        return "no request"
    return f"{request.method} {request.url_rule.rule if request.url_rule is not None else request.endpoint}"


async def open_engine(app: Quart) -> None:
    """This process's engine and session factory (each Hypercorn worker, or a CLI command)."""
    config = app.config
    app.extensions["db_engine"] = make_engine(
        config["DATABASE_URL"], config.get("SLOW_QUERY_SECONDS"), busy_timeout_ms=config["DB_BUSY_TIMEOUT_MS"],
        statement_timeout_ms=config["DB_STATEMENT_TIMEOUT_MS"], lock_timeout_ms=config["DB_LOCK_TIMEOUT_MS"],
        pool_timeout=config["DB_POOL_TIMEOUT"], pool_size=config["DB_POOL_SIZE"])
    app.extensions["db_sessionmaker"] = async_sessionmaker(app.extensions["db_engine"], expire_on_commit=False)


async def close_engine(app: Quart) -> None:
    engine = app.extensions.pop("db_engine", None)
    if engine is not None:
        await engine.dispose()


@asynccontextmanager
async def command_context(app: Quart) -> AsyncIterator[None]:
    """For a command (`quart …`), outside any request: the app's engine, and its app context."""
    await open_engine(app)
    try:
        async with app.app_context():
            yield
    finally:
        await close_engine(app)


def new_session() -> AsyncSession:
    """A session that is not the request's (the job runner, a CLI command, a test)."""
    return current_app.extensions["db_sessionmaker"]()


# --- the request's session and its single commit -------------------------------------------

def get_session() -> AsyncSession:
    """The request's session, opened on first use, committed once and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


Callback = Callable[[], Awaitable[Any] | Any]


def on_commit(callback: Callback, session: AsyncSession | None = None) -> None:
    """Run `callback` once `session` (the request's by default) has committed; never after a
    rollback. For cheap effects that may be lost (waking a runner, clearing a cache); anything that
    must not be lost is a job row (jobs/)."""
    session = session or get_session()
    session.info.setdefault("on_commit", []).append(callback)


async def commit(session: AsyncSession) -> None:
    """Commit `session`, then run its on_commit callbacks (a failing callback is only logged)."""
    await session.commit()
    for callback in session.info.pop("on_commit", []):
        try:
            result = callback()
            if asyncio.iscoroutine(result):
                await result
        except Exception:
            log.exception("on_commit callback %r failed", callback)


async def rollback(session: AsyncSession) -> None:
    session.info.pop("on_commit", None)
    await session.rollback()


def insert_or_ignore(db: AsyncSession, target):
    """INSERT … ON CONFLICT DO NOTHING: a row that already exists (or is being inserted by a
    concurrent request) is quietly not inserted, and the transaction goes on unharmed."""
    if db.bind.dialect.name == mariadb.DIALECT:
        return insert(target).prefix_with("IGNORE")
    dialect_insert = sqlite_insert if db.bind.dialect.name == "sqlite" else postgresql_insert
    return dialect_insert(target).on_conflict_do_nothing()


@asynccontextmanager
async def savepoint(db: AsyncSession) -> AsyncIterator[None]:
    """Statements that may fail (a uniqueness race) without spoiling the request's transaction.

    Use Core statements inside (`db.execute(update(...))`), not ORM flushes. PostgreSQL aborts
    the whole transaction on an error, so a SAVEPOINT is needed there; SQLite only undoes the
    failed statement, and pysqlite's SAVEPOINT outside a transaction would commit on RELEASE."""
    if db.bind.dialect.name == "sqlite":
        yield
    else:
        async with db.begin_nested():
            yield


@asynccontextmanager
async def separate_transaction() -> AsyncIterator[AsyncSession]:
    """A short transaction of its own, committed when the block ends: for what other workers must
    see at once whatever the request does next (a log-in throttle claim)."""
    async with new_session() as session:
        yield session
        await commit(session)


async def end_request_session(success: bool) -> None:
    """Commit (success) or roll back the request's session, if it opened one.

    A client that hangs up cancels its request: the commit or rollback still runs to its end
    (shielded), so a connection is never dropped half-way; closing the session waits for it."""
    session = g.get("db_session")
    if session is None:
        return
    ending = asyncio.ensure_future(commit(session) if success else rollback(session))
    session.info["ending"] = ending
    await asyncio.shield(ending)


async def _close(session: AsyncSession) -> None:
    """Close the request's session: its one owner, once. A dead connection closes quietly."""
    session.info.pop("on_commit", None)
    ending = session.info.pop("ending", None)
    if ending is not None:
        await asyncio.wait([ending])  # its outcome was the request's to report
    try:
        await session.close()
    except Exception as error:
        log.warning("could not close a database session cleanly: %s", error)


# asyncmy's errors reach here wrapped in SQLAlchemy's (not imported: a worker on SQLite or
# PostgreSQL need not load the MariaDB driver).
DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)
BUSY_SIGNS = ("database is locked", "statement timeout", "lock timeout", "canceling statement",
              "queuepool limit", "connection timed out", *mariadb.ERROR_SIGNS_BUSY, *postgresql.ERROR_SIGNS_BUSY)


# A database file that cannot be opened (SQLite); a connection cut under us (asyncpg, in a request
# and in the job runner: "was closed" or "is closed" depending on when it noticed).
UNREACHABLE_SIGNS = ("unable to open database file", "connection was closed", "connection is closed")


def unavailability(error: BaseException | None) -> str | None:
    """What passing trouble `error` is — "disk-full", "read-only", "unreachable" or "busy" (locked,
    timed out, no free connection) — answered 503; None for anything else. Only database errors are
    read (and OSError/TimeoutError: the database is the only thing a request talks to)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text = str(error).lower() if isinstance(error, DATABASE_ERRORS) else ""
        if sqlite.disk_full(error) or "disk is full" in text or getattr(error, "errno", None) == errno.ENOSPC:
            return "disk-full"
        if "readonly" in text or "read-only" in text:
            return "read-only"
        if any(sign in text for sign in BUSY_SIGNS) or isinstance(error, (TimeoutError, SQLAlchemyTimeout)):
            return "busy"
        if isinstance(error, OSError) or getattr(error, "connection_invalidated", False) or any(
                sign in text for sign in (*UNREACHABLE_SIGNS, *mariadb.ERROR_SIGNS_UNREACHABLE,
                                          *postgresql.ERROR_SIGNS_UNREACHABLE)):
            return "unreachable"
        error = error.__cause__ or error.__context__ or getattr(error, "orig", None)
    return None


def first_line(error: BaseException) -> str:
    """The first line of `error`'s message, at most 200 characters: passing trouble is logged in
    one line, not a traceback."""
    return (str(error).strip().splitlines() or [""])[0][:200]


async def discard_request_session() -> None:
    """Forget all the request staged (its answer is the error page), whatever state the session
    or its connection is in; the error page opens a fresh one if it needs the database."""
    session = g.pop("db_session", None)
    if session is not None:
        await asyncio.shield(_close(session))


def init_app(app: Quart) -> None:
    @app.before_serving
    async def _open_engine() -> None:
        await open_engine(app)

    @app.after_serving
    async def _close_engine() -> None:
        await close_engine(app)

    @app.after_request
    async def _commit_request(response: Response) -> Response:
        # A failed commit raises here: Quart answers with the 500 handler instead (errors.py).
        await end_request_session(success=response.status_code < 400)
        return response

    @app.teardown_appcontext
    async def _close_session(_exc) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            # A client that goes away cancels its request: the connection must still be
            # rolled back and returned to the pool, not dropped half-way.
            await asyncio.shield(_close(session))
