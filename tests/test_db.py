"""The database layer: slow queries are logged; SQLite runs in WAL mode with foreign keys."""
import logging

import pytest
from sqlalchemy import text

from microblog.db import make_engine


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
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
    await engine.dispose()
