"""The engine and session: one engine per Hypercorn worker, one session per request."""
import asyncio
import logging
import time

from quart import Quart, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

slow_query_log = logging.getLogger("microblog.slow_query")


def make_engine(url: str, slow_query_seconds: float | None = None) -> AsyncEngine:
    engine = create_async_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    if slow_query_seconds:
        _log_slow_queries(engine.sync_engine, slow_query_seconds)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL and a busy timeout let several workers write; foreign keys make cascades real.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
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
            slow_query_log.warning("slow query (%.3fs): %s", elapsed, statement)


def init_app(app: Quart) -> None:
    @app.before_serving
    async def _open_engine() -> None:
        app.extensions["db_engine"] = make_engine(
            app.config["DATABASE_URL"], app.config.get("SLOW_QUERY_SECONDS")
        )
        app.extensions["db_sessionmaker"] = async_sessionmaker(
            app.extensions["db_engine"], expire_on_commit=False
        )

    @app.after_serving
    async def _close_engine() -> None:
        engine = app.extensions.pop("db_engine", None)
        if engine is not None:
            await engine.dispose()

    @app.teardown_appcontext
    async def _close_session(_exc) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            # A client that goes away cancels its request: the connection must still be
            # rolled back and returned to the pool, not dropped half-way.
            await asyncio.shield(session.close())


def get_session() -> AsyncSession:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session
