"""SQLite writers take turns (microblog/sqlite_writer_queue.py): in the order they came within a
worker, and with the other workers through a lock file, so that none polls past the busy timeout."""
import asyncio
import fcntl
import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from microblog.db import make_engine


async def test_writers_of_two_workers_take_turns_and_none_fails(tmp_path):
    """30 writers, 20 ms each: 0.6 s of work for a busy timeout of 1.2 s. Polling in SQLite's busy
    handler, some of them would wait past it; queued, each waits only for those ahead."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'writers.sqlite'}"
    workers = [make_engine(url, busy_timeout_ms=1200) for _ in range(2)]  # as two processes would
    async with workers[0].begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))

    async def write(worker: int, n: int) -> None:
        async with workers[worker].begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.02)  # the rest of a request, while holding the write lock

    results = await asyncio.gather(*(write(n % 2, n) for n in range(30)), return_exceptions=True)
    assert [r for r in results if r is not None] == []
    async with workers[1].connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM t")) == 30
    for engine in workers:
        await engine.dispose()


async def test_a_writer_that_waited_too_long_is_refused_and_the_queue_moves_on(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'writers.sqlite'}"
    engine = make_engine(url, busy_timeout_ms=200)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))

    async def write(n: int, hold: float) -> str:
        try:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
                await asyncio.sleep(hold)
            return "stored"
        except Exception as error:
            return str(error)

    slow = asyncio.create_task(write(1, 0.5))
    await asyncio.sleep(0.05)
    assert "database is locked (other writers were ahead)" in await write(2, 0)  # 200 ms in the queue
    assert await slow == "stored"
    assert await write(3, 0) == "stored"
    async with engine.connect() as conn:
        assert list(await conn.scalars(text("SELECT n FROM t ORDER BY n"))) == [1, 3]
    await engine.dispose()


async def test_writers_that_gave_up_waiting_leave_the_shared_threads_free(tmp_path):
    """Another process keeps its turn to write: each writer here gives up after its busy timeout,
    its wait for the lock file still blocking a thread. Those threads are the queue's own: the
    pool that password checks and language detection use (asyncio.to_thread) stays free."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'writers.sqlite'}"
    engine = make_engine(url, busy_timeout_ms=100)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    other_process = os.open(tmp_path / "writers.sqlite.writer", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other_process, fcntl.LOCK_EX)
    try:
        shared_threads = min(32, (os.cpu_count() or 1) + 4)  # asyncio's default pool
        for n in range(shared_threads + 2):
            with pytest.raises(OperationalError, match="other writers were ahead"):
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        assert await asyncio.wait_for(asyncio.to_thread(sum, [1, 2]), 10) == 3
    finally:
        fcntl.flock(other_process, fcntl.LOCK_UN)
        os.close(other_process)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (99)"))
    await engine.dispose()
