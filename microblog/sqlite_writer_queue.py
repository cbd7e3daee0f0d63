"""SQLite: one writer at a time, in order, across every process of the site.

SQLite lets one connection write at a time. The others wait in its busy handler, which polls (up
to 100 ms apart) in no order: under load a writer that keeps arriving just after the lock was
taken again waits past the busy timeout and fails, while later ones get through. So a transaction
joins a queue before its first write and leaves it when it ends: first a queue of this process's
tasks (an asyncio lock, first come first served), then, for the head of that queue, a lock on a
file beside the database shared with the other workers (the kernel wakes a waiter at once). The
busy handler is left for writers that do not take part (a `sqlite3` shell, a backup).

Waiting for the file lock blocks a thread: one of the queue's own, not of the pool that reads,
password checks and language detection share. A waiter that timed out leaves its thread blocked
until the lock comes (then let go at once); in the shared pool, a few of those starved everyone.
"""
import asyncio
import fcntl
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

WRITES = ("insert", "update", "delete", "replace")


class WriterQueue:
    def __init__(self, database: str | None, wait_seconds: float):
        self.wait_seconds = wait_seconds
        self.local = asyncio.Lock()
        self.lock_file = f"{database}.writer" if database and database != ":memory:" else None
        self.fd: int | None = None
        self.task: asyncio.Task | None = None
        self.connections = 0
        self.waiter = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer-queue")  # for the file lock

    async def enter(self) -> None:
        """Wait for this process's earlier writers, then for the other processes'."""
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self.local.acquire()
                try:
                    await self._lock_file()
                except BaseException:
                    self.local.release()
                    raise
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked (other writers were ahead)") from None

    def leave(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.local.release()

    async def _lock_file(self) -> None:
        if self.lock_file is None:
            return
        if self.fd is None:
            try:
                self.fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only folder: its writes will fail anyway, and say why
                self.lock_file = None
                return
        fd, guard, state = self.fd, threading.Lock(), {"abandoned": False, "held": False}

        def take() -> None:  # blocks a thread until the other process lets go
            fcntl.flock(fd, fcntl.LOCK_EX)
            with guard:
                if state["abandoned"]:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                else:
                    state["held"] = True

        try:
            await asyncio.get_running_loop().run_in_executor(self.waiter, take)
        except asyncio.CancelledError:  # timed out: whatever the thread gets later, it gives back
            with guard:
                state["abandoned"] = True
                if state["held"]:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            raise


def queue_writers(engine: Engine, wait_ms: int) -> None:
    """Make every write transaction of `engine` (a SQLite engine used under asyncio) take its turn.
    A task already writing may write on a second connection too (a throttle claim in a request)."""
    queue = WriterQueue(engine.url.database, wait_ms / 1000)

    @event.listens_for(engine, "before_cursor_execute")
    def _join(conn, cursor, statement, parameters, context, executemany):
        if conn.info.get("writing") or not in_greenlet() or not statement.lstrip()[:7].lower().startswith(WRITES):
            return
        task = asyncio.current_task()
        if queue.task is not task:
            await_(queue.enter())
            queue.task = task
        queue.connections += 1
        conn.info["writing"] = True

    def _leave(info: dict) -> None:
        if info.pop("writing", False):
            queue.connections -= 1
            if queue.connections == 0:
                queue.task = None
                queue.leave()

    def _ended(conn) -> None:
        # A connection invalidated mid-transaction (its task cancelled while it waited or wrote)
        # left the queue when it was invalidated, below; reading its info now would raise
        # PendingRollbackError and fail the session's close (a 500 for the request).
        if not conn.invalidated:
            _leave(conn.info)

    # Leaving at COMMIT lets the next writer's first statement overlap the commit (SQLite holds it
    # back for the milliseconds that takes). However a transaction ends, the queue moves on.
    for name in ("commit", "rollback"):
        event.listen(engine, name, _ended)
    for name in ("checkin", "invalidate"):
        event.listen(engine, name, lambda dbapi_connection, record, *_: record is not None and _leave(record.info))
