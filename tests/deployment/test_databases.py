"""The databases microblog runs on are SQLite, PostgreSQL and MariaDB; another is refused at start
with one clear line, by the app, its commands and the server (no half-working site)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TEST_CONFIG
from microblog import ROOT, create_app
from microblog.config import normalise_database_url

from .support import clean_environment

UNSUPPORTED = ["oracle://scott@localhost/orcl", "mssql+pyodbc://sa@localhost/microblog"]


@pytest.mark.parametrize("given, used", [
    ("mariadb://root@127.0.0.1:3306/microblog", "mysql+asyncmy://root@127.0.0.1:3306/microblog?charset=utf8mb4"),
    ("mysql://u:p@db/microblog?ssl=true", "mysql+asyncmy://u:p@db/microblog?ssl=true&charset=utf8mb4"),
    ("mysql+asyncmy://u@db/m?charset=utf8mb4", "mysql+asyncmy://u@db/m?charset=utf8mb4"),
    ("postgres://u@db/m", "postgresql+asyncpg://u@db/m"),
])
def test_database_urls_as_people_write_them(given, used):
    assert normalise_database_url(given) == used


@pytest.mark.parametrize("url", UNSUPPORTED)
def test_other_databases_are_refused_at_start(url):
    with pytest.raises(RuntimeError) as refused:
        create_app({**TEST_CONFIG, "DATABASE_URL": url})
    message = str(refused.value)
    assert "does not support" in message and all(name in message for name in ("SQLite", "PostgreSQL", "MariaDB"))


def test_the_migration_command_refuses_too(tmp_path):
    env = clean_environment(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                            DATABASE_URL=UNSUPPORTED[0], SECRET_KEY="x", BASE_URL="http://localhost",
                            MICROBLOG_DOTENV=str(tmp_path / "none"), QUART_SKIP_DOTENV="1",
                            LOG_TO_STDOUT="1")
    result = subprocess.run([sys.executable, "-m", "quart", "--app", "microblog", "db", "upgrade"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DATABASE_URL names a oracle database, which microblog does not support" in result.stderr
