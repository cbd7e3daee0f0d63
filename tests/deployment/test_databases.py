"""The databases microblog runs on are SQLite and PostgreSQL; another (MySQL, MariaDB) is refused at
start with one clear line, by the app, its commands and the server (no half-working site)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TEST_CONFIG
from microblog import ROOT, create_app

from .support import clean_environment

UNSUPPORTED = ["mysql+asyncmy://root@127.0.0.1:3306/test_deploy", "mysql://root@localhost/microblog",
               "mariadb+asyncmy://root@localhost/microblog", "oracle://scott@localhost/orcl"]


@pytest.mark.parametrize("url", UNSUPPORTED)
def test_other_databases_are_refused_at_start(url):
    with pytest.raises(RuntimeError) as refused:
        create_app({**TEST_CONFIG, "DATABASE_URL": url})
    message = str(refused.value)
    assert "does not support" in message and "SQLite" in message and "PostgreSQL" in message


def test_the_migration_command_refuses_too(tmp_path):
    env = clean_environment(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                            DATABASE_URL=UNSUPPORTED[0], SECRET_KEY="x", BASE_URL="http://localhost",
                            MICROBLOG_DOTENV=str(tmp_path / "none"), LOG_TO_STDOUT="1")
    result = subprocess.run([sys.executable, "-m", "quart", "--app", "microblog", "db", "upgrade"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DATABASE_URL names a mysql database, which microblog does not support" in result.stderr
