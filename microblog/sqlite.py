"""SQLite without a thread per connection.

aiosqlite runs every call (execute, fetch, close the cursor, commit) in a thread of its own and
wakes the event loop when it is done: about 100 µs a call, where an indexed query of ours takes
4 µs in SQLite itself, so a page spent more time handing work to threads than in the database.
Here the same calls run on the event loop's thread, and SQLAlchemy's aiosqlite dialect drives
them unchanged (`async_creator`): its driver-level connection is this one.

The one thing that would stall every request is waiting for a lock. So SQLite's own busy timeout
is 0 here: a statement that finds the database locked (a writer outside the app's queue, see
sqlite_writer_queue.py) is run again in a thread with the real timeout, and only that request waits.

A full disk: the write fails (a 503, db.py), and once it is rolled back the WAL is checkpointed
and truncated to nothing. Otherwise the WAL keeps its size, and when space is freed it grows into
it before the database file can (a checkpoint must grow that first), and writes fail until every
connection is closed: a restart. The log says how much room is left and what to do.
"""
import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from typing import Any

from .logs import Repeats

log = logging.getLogger("microblog.db")
disk_log = Repeats(log)  # one line, then a line a minute, while the disk stays full

from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url


def connector(url: str, busy_timeout_ms: int) -> Callable:
    """`async_creator` for create_async_engine: connections as aiosqlite's dialect would open them."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))

    async def connect() -> Connection:
        connection = sqlite3.connect(*args, **{**kwargs, "check_same_thread": False, "timeout": 0})
        return Connection(connection, busy_timeout_ms / 1000)

    return connect


def _locked(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(error)


def disk_full(error: BaseException) -> bool:
    return isinstance(error, sqlite3.Error) and getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_FULL


def _free_bytes(path: str) -> int | None:
    try:
        stat = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


class Connection:
    """What SQLAlchemy's aiosqlite dialect uses of an aiosqlite connection, run inline."""

    def __init__(self, connection: sqlite3.Connection, busy_seconds: float):
        self._conn = self._connection = connection
        self.busy_seconds = busy_seconds
        self._tx = _Inline()  # the dialect sets isolation_level through aiosqlite's queue
        self.disk_full = False  # a write failed for want of space: make room once rolled back

    async def run(self, function: Callable, *args) -> Any:
        """`function(*args)` now; if the database is locked, again in a thread, waiting for it."""
        try:
            return function(*args)
        except sqlite3.OperationalError as error:
            self.disk_full = self.disk_full or disk_full(error)
            if not _locked(error) or self.busy_seconds <= 0:
                raise
        waiting = asyncio.ensure_future(asyncio.to_thread(self._waiting, function, *args))
        try:
            return await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread still uses this connection: let it finish (within the busy timeout)
            # before the connection is closed or handed to anyone else.
            await asyncio.wait([waiting])
            raise

    def _waiting(self, function: Callable, *args) -> Any:
        self._conn.execute(f"PRAGMA busy_timeout={int(self.busy_seconds * 1000)}")
        try:
            return function(*args)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")

    def cursor(self) -> "Cursor":
        return Cursor(self)

    async def execute(self, sql: str, parameters=()) -> "Cursor":
        cursor = Cursor(self)
        await cursor.execute(sql, parameters)
        return cursor

    async def commit(self) -> None:
        await self.run(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()
        if self.disk_full:
            self.disk_full = False
            self._truncate_wal()

    def _truncate_wal(self) -> None:
        """After a write failed on a full disk: the WAL's content into the database, and the WAL
        emptied (busy, not waited for, if others are reading or writing: the next failure tries again)."""
        path = next((file for _seq, name, file in self._conn.execute("PRAGMA database_list") if name == "main"), "")
        try:
            busy, _frames, _done = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            outcome = "the WAL could not be emptied now (in use)" if busy else "the WAL was emptied"
        except sqlite3.Error as error:
            outcome = f"the WAL could not be emptied ({error})"
        free = _free_bytes(path)
        disk_log.log(logging.ERROR, ("disk full", path), "the disk is full", "failed writes", (
            f"the disk holding {path} is full ({'unknown' if free is None else f'{free:,} bytes'} free): "
            f"nothing can be saved, {outcome}. Free space on that disk (the database grows as posts are "
            "written): the site saves again without a restart."))

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args, **kwargs) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self):
        return self._conn.isolation_level


class Cursor:
    def __init__(self, connection: Connection):
        self._connection = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> "Cursor":
        return self

    async def __aexit__(self, *exc) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters=()) -> "Cursor":
        await self._connection.run(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters) -> "Cursor":
        await self._connection.run(self._cursor.executemany, sql, parameters)
        return self

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None):
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    async def fetchall(self):
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    def __aiter__(self):
        return self

    async def __anext__(self):
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self):
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Inline:
    """Stands in for aiosqlite's queue of work for its thread: does the work at once."""

    def put_nowait(self, item) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # noqa: BLE001 - handed to whoever awaits the future
            future.set_exception(error)
