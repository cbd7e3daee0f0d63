"""Fixtures: an app on a real database (SQLite file, and PostgreSQL when TEST_DATABASE_URL is set).

Each database gets the models' tables once per session (`databases`); every test that uses
`app` then starts from empty tables, ids restarting at 1 (`empty_database`). A test that changed
the schema itself (migrations, a trigger, `reset_schema`) is noticed by the next one, which builds
the tables afresh.

Every test still gets an app of its own (`app`), cheap to make: its templates and URL rules are
compiled once per session and shared (SessionTemplates, build_url_rules_once), and no HTTP client
is opened unless a translator is configured. Which tests also run on PostgreSQL and MariaDB is
the rule above MARIADB_SUITE; under pytest-xdist each worker has databases of its own (WORKER).
Tests never read the developer's `.env`, and throttles they do not exercise are out of their way.

Requests and HTML readers live in helpers.py; the ones other modules import from here
(csrf_token, post, login, text_of, flashes) are re-exported.
"""
import asyncio
import itertools
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from argon2 import PasswordHasher
from jinja2 import BytecodeCache
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from werkzeug.routing import Rule

from helpers import csrf_token, flashes, login, post, text_of  # noqa: F401 (re-exported)
from ready_keys import KEY_PAIRS
from microblog import create_app
from microblog.config import normalise_database_url
from microblog import follows
from microblog.accounts import User
from microblog.db import Base, make_engine, utcnow
from microblog.federation import keys as federation_keys
from microblog.posts import Post
from microblog.web import App

# Tests never read the developer's `.env` (the README's run command writes one, BASE_URL and all):
# not the app's own reading of it (config.from_environment reads MICROBLOG_DOTENV) nor Quart's CLI
# (`quart --app microblog ...` run in the checkout). Set before any app starts, so this process and
# every one it starts (served apps, CLI commands) inherit it.
os.environ["MICROBLOG_DOTENV"] = os.devnull
os.environ["QUART_SKIP_DOTENV"] = "1"
os.environ.setdefault("POST_MAX_CHARS", "140")  # the limit the tests were written for, as TEST_CONFIG

# A throttle a test does not exercise is out of its way: the per-client limits meant for people
# (every test client is 127.0.0.1; the browser tests' shared server registers dozens of accounts
# within minutes) are far off, through the environment, so apps made here and servers that tests
# run as processes (tests/browser, test_serving.py) all read them. The tests of the throttles set
# their own limits (test_lockout.py's strict_limits, @pytest.mark.settings in tests/translate),
# and test_the_limits_default_to_a_few checks the defaults without these.
for _limit in ("REGISTRATIONS_PER_CLIENT", "LOGIN_FAILURES_PER_CLIENT", "RESET_REQUESTS_PER_CLIENT"):
    os.environ.setdefault(_limit, "1000")

class SessionTemplates(BytecodeCache):
    """Every template compiled once per test session: each app's Jinja environment takes the code
    of a template another app compiled, as long as its source is the same (a template changed
    during the session is compiled again). Each app still has its own environment, globals and
    filters; only Jinja's parse and compile is shared (every app is made by create_app, with the
    same Jinja options)."""

    def __init__(self):
        self.compiled: dict[str, tuple[str, object]] = {}  # key -> (source checksum, code)
        self.compilations = 0

    def load_bytecode(self, bucket) -> None:
        checksum, code = self.compiled.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket) -> None:
        self.compilations += 1
        self.compiled[bucket.key] = (bucket.checksum, bucket.code)


SESSION_TEMPLATES = SessionTemplates()
App.jinja_options = {**App.jinja_options, "bytecode_cache": SESSION_TEMPLATES}

def build_url_rules_once() -> None:
    """Every URL rule's builder made once per test session, not once per app: Werkzeug compiles a
    Python function for each rule of each new app (most of create_app's time). The function is
    made from the rule alone (its text, parsed parts and defaults) and takes the rule as its first
    argument, so apps can share it; each app still has its own map and rules."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return  # another Werkzeug: every app compiles its own, as before
    builders = {}

    def shared_builder(rule, append_unknown: bool = True):
        defaults = tuple(sorted((name, repr(value)) for name, value in (rule.defaults or {}).items()))
        key = (rule.rule, tuple(rule._trace), defaults, append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    shared_builder.shared = True
    Rule._compile_builder = shared_builder


build_url_rules_once()

# Key pairs come ready-made (tests/ready_keys.py, handed out in turn): making one takes ~50 ms.
_ready_key_pairs = itertools.cycle(KEY_PAIRS)
federation_keys.make_key_pair = lambda: next(_ready_key_pairs)

# Under pytest-xdist (`-n 2`) each worker has a PostgreSQL and a MariaDB database of its own, the
# given database's name and the worker's (test_suite_gw0, test_suite_gw1), made on first use:
# tests empty, rebuild, lock and cut off their database, and those that take it offline or lock it
# (test_faults.py, test_unavailable.py) must not do so under the other worker's tests. Servers run
# as processes take free ports and folders of their own already.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_database(url: str | None) -> str | None:
    """`url` with the xdist worker's own database name (unchanged outside xdist)."""
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{WORKER}"))


POSTGRES_URL = worker_database(os.environ.get("TEST_DATABASE_URL"))
MARIADB_URL = worker_database(os.environ.get("TEST_MARIADB_URL"))
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else []) + (["mariadb"] if MARIADB_URL else [])

# Which tests run on which database, the rule: every test runs on SQLite; on PostgreSQL
# (TEST_DATABASE_URL) and MariaDB (TEST_MARIADB_URL) run the tests of WHAT CAN DIFFER BY DATABASE:
# the database layer and its statements, migrations, races, faults and passing trouble, jobs,
# throttles and allowances, sessions, the models and the lists' queries (timelines, follows,
# paging, deletion's cascades), timestamps, mail limits, and on PostgreSQL its own full-text search
# and the deployments that run on it. A page test (what a page shows, forms, access, headers,
# languages) renders the same whatever the database answered, so it runs once, on SQLite. A new
# test module of what can differ goes in the lists below. TEST_POSTGRESQL_ALL=1 and
# TEST_MARIADB_ALL=1 run every test there too (MariaDB: about 5 minutes more, each test emptying
# its tables with TRUNCATE).
MARIADB_SUITE = (
    "tests/test_db.py", "tests/test_jobs.py", "tests/test_migrations.py", "tests/test_races.py",
    "tests/test_unavailable.py", "tests/test_paging.py", "tests/test_timestamps.py", "tests/test_sessions.py",
    "tests/test_lockout.py", "tests/accounts/test_throttle.py", "tests/accounts/test_models.py",
    "tests/accounts/test_register.py", "tests/follows/", "tests/posts/test_models.py", "tests/posts/test_publish.py",
    "tests/mail/test_new_follower.py", "tests/mail/test_error_reports.py",
    "tests/test_job_policies.py", "tests/mail/test_stalls_and_refusals.py", "tests/test_events.py",
    "tests/accounts/test_nicknames.py", "tests/accounts/test_clock_steps.py", "tests/posts/test_text.py",
    "tests/posts/test_post_form.py", "tests/federation/test_inbox.py", "tests/federation/test_discovery.py",
    "tests/federation/test_pictures.py", "tests/federation/test_following.py", "tests/federation/test_notes.py",
    "tests/federation/test_pruning.py", "tests/federation/test_domain_blocks.py", "tests/federation/test_blocking.py",
    "tests/blocks/",
)
POSTGRESQL_SUITE = MARIADB_SUITE + (
    "tests/test_statements.py", "tests/test_faults.py", "tests/test_load.py", "tests/search/",
    "tests/posts/test_timeline.py", "tests/posts/test_delete.py", "tests/accounts/test_password_reset.py",
    "tests/accounts/test_last_seen.py", "tests/translate/test_failures.py", "tests/deployment/",
)
SUITES = {"postgresql": (POSTGRES_URL, "TEST_POSTGRESQL_ALL", POSTGRESQL_SUITE),
          "mariadb": (MARIADB_URL, "TEST_MARIADB_ALL", MARIADB_SUITE)}


def pytest_collection_modifyitems(config, items):
    """Deselects the tests outside each database's suite (the rule above)."""
    limited = {name: suite for name, (url, run_all, suite) in SUITES.items() if url and not os.environ.get(run_all)}
    if not limited:
        return
    root = Path(__file__).resolve().parent.parent

    def elsewhere(item) -> bool:
        database = getattr(item, "callspec", None) and item.callspec.params.get("database_url")
        return database in limited and not Path(item.fspath).resolve().relative_to(root).as_posix().startswith(
            limited[database])

    dropped = [item for item in items if elsewhere(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not elsewhere(item)]


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_COST": 64,
    "SESSION_COOKIE_SECURE": False,
    "QUART_AUTH_COOKIE_SECURE": False,
    "POSTS_PER_PAGE": 3,
    "POST_MAX_CHARS": 140,  # the limit the tests were written for (the default is 500)
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 9,  # nothing listens: tests that read mail start their own server
    "SERVER_NAME": None,
    "JOBS_POLL_SECONDS": 60,  # a new job wakes the runner; tests of retries poll faster
    "FEDERATION": False,  # tests/federation/ turn it on (else on for any https BASE_URL)
    "FEDERATION_PRUNE_DAYS": 0,  # no daily pruning job waiting in every test (tests/federation/test_pruning.py runs it)
}


def pytest_sessionstart(session):
    """Compiled catalogues, as `quart translate compile` makes them (*.mo are not committed); under
    pytest-xdist by the controller alone, before its workers start (they would write over the
    files one another reads)."""
    if WORKER:
        for url in (POSTGRES_URL, MARIADB_URL):
            if url:
                _run_in_thread(create_database(url))
        return
    from microblog.i18n.cli import pybabel
    pybabel("compile", "-d", str(Path(__file__).resolve().parent.parent / "translations"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the databases ------------------------------------------------------------------------------

async def reset_schema(url: str, create_tables: bool = True) -> None:
    """An empty database: with the models' tables, or with nothing at all (for migrations)."""
    engine = make_engine(url)
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        elif engine.dialect.name == "mysql":
            await conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for name, kind in (await conn.execute(text("SHOW FULL TABLES"))).all():
                await conn.execute(text(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} `{name}`"))
            await conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
        else:  # in place, so connections already open see it too; in any order, foreign keys off
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for kind, name in (await conn.exec_driver_sql(
                    "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger', 'table') "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'table'")).all():
                await conn.exec_driver_sql(f'DROP {kind.upper()} IF EXISTS "{name}"')
            await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        if create_tables:
            await conn.run_sync(Base.metadata.create_all)
        await conn.commit()
    await engine.dispose()


# Everything in the schema that a test could change, in one value: on SQLite its whole DDL; on
# PostgreSQL the catalogue rows of the public schema (by oid, so anything dropped and made again
# shows too): relations (tables, indexes, sequences), columns, defaults, constraints, triggers
# and functions. Reading pg_indexes and pg_get_*def() instead would cost more than the TRUNCATE.
SQLITE_SCHEMA = text("SELECT group_concat(type || ' ' || name || ' ' || ifnull(sql, ''), char(10)) "
                     "FROM (SELECT * FROM sqlite_master ORDER BY type, name)")
POSTGRESQL_SCHEMA = text("""
SELECT md5(coalesce(string_agg(item, ' ' ORDER BY item), '')) FROM (
  SELECT 'relation ' || oid || ' ' || relname AS item FROM pg_class WHERE relnamespace = 'public'::regnamespace
  UNION ALL SELECT 'column ' || attrelid || ' ' || attname || ' ' || atttypid || ' ' || atttypmod || ' ' || attnotnull
    FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped
    AND attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
  UNION ALL SELECT 'default ' || oid FROM pg_attrdef
    WHERE adrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
  UNION ALL SELECT 'constraint ' || oid FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT 'trigger ' || oid FROM pg_trigger
    WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
  UNION ALL SELECT 'function ' || oid FROM pg_proc WHERE pronamespace = 'public'::regnamespace
) AS schema
""")

MARIADB_SCHEMA = text("""
SELECT md5(coalesce(group_concat(item ORDER BY item SEPARATOR ' '), '')) FROM (
  SELECT concat('table ', table_name, ' ', create_time) AS item FROM information_schema.tables
    WHERE table_schema = database()
  UNION ALL SELECT concat('column ', table_name, ' ', column_name, ' ', column_type, ' ', is_nullable, ' ',
                          coalesce(column_default, '')) FROM information_schema.columns WHERE table_schema = database()
  UNION ALL SELECT concat('index ', table_name, ' ', index_name, ' ', seq_in_index, ' ', column_name, ' ', non_unique)
    FROM information_schema.statistics WHERE table_schema = database()
  UNION ALL SELECT concat('constraint ', table_name, ' ', constraint_name, ' ', constraint_type)
    FROM information_schema.table_constraints WHERE table_schema = database()
  UNION ALL SELECT concat('trigger ', trigger_name) FROM information_schema.triggers WHERE trigger_schema = database()
) AS ddl
""")

_expected_schema: dict[str, str] = {}  # url -> what the schema looks like after create_all


async def _schema_of(conn) -> str:
    query = {"sqlite": SQLITE_SCHEMA, "mysql": MARIADB_SCHEMA}.get(conn.dialect.name, POSTGRESQL_SCHEMA)
    return (await conn.execute(query)).scalar() or ""


async def create_schema(url: str) -> None:
    """The models' tables from scratch, remembered as what each test expects to find."""
    await reset_schema(url)
    engine = make_engine(url)
    async with engine.connect() as conn:
        _expected_schema[url] = await _schema_of(conn)
    await engine.dispose()


async def empty_database(url: str) -> None:
    """Empty every table and restart ids (the schema as create_all made it: built afresh if a
    test changed it). Runs in the calling test's event loop, on an engine of its own."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            if url in _expected_schema and await _schema_of(conn) == _expected_schema[url]:
                tables = Base.metadata.sorted_tables
                if conn.dialect.name == "postgresql":
                    await conn.execute(text("SET LOCAL lock_timeout = '20s'"))  # a leaked connection: fail, not hang
                    names = ", ".join(conn.dialect.identifier_preparer.format_table(t) for t in tables)
                    await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                elif conn.dialect.name == "mysql":  # TRUNCATE restarts AUTO_INCREMENT
                    await conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
                    for table in tables:
                        await conn.execute(text(f"TRUNCATE TABLE `{table.name}`"))
                    await conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
                else:
                    for table in reversed(tables):  # children first: foreign keys are on
                        await conn.execute(table.delete())
                    await conn.execute(text("DELETE FROM sqlite_sequence"))  # AUTOINCREMENT ids restart
                return
    finally:
        await engine.dispose()
    await create_schema(url)


async def create_database(url: str) -> None:
    """The (xdist worker's) database at `url`, made on its server if missing."""
    url = make_url(normalise_database_url(url))
    if url.get_backend_name() == "postgresql":
        engine = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            if not await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}):
                await conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    else:
        engine = create_async_engine(url.set(database="mysql"))
        async with engine.connect() as conn:
            await conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{url.database}` CHARACTER SET utf8mb4"))
    await engine.dispose()


def _run_in_thread(coroutine) -> None:
    """Run `coroutine` to the end on an event loop of its own, in a thread: the main thread's loop
    (pytest-asyncio's, one per test) is left alone."""
    failure = []

    def run():
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the caller
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.fixture(scope="session")
def databases():
    """name -> URL of each database under test, its tables created on first use (once a session)."""
    workdir = Path(tempfile.mkdtemp(prefix="microblog-tests-"))  # not tmp_path: other runs prune those
    urls = {"sqlite": f"sqlite+aiosqlite:///{workdir / 'test.sqlite'}"}
    if POSTGRES_URL:
        urls["postgresql"] = normalise_database_url(POSTGRES_URL)
    if MARIADB_URL:
        urls["mariadb"] = normalise_database_url(MARIADB_URL)

    class Databases(dict):
        def __missing__(self, name):
            _run_in_thread(create_schema(urls[name]))
            self[name] = urls[name]
            return self[name]

    yield Databases()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=DATABASES)
def database_url(request, databases) -> str:
    """The database under test; the `app` fixture empties it first, tests without `app` that need
    empty tables call `await empty_database(database_url)`."""
    return databases[request.param]


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    # Each test starts with an empty search index, as with empty tables.
    return {**TEST_CONFIG, "DATABASE_URL": database_url, "SEARCH_INDEX_DIR": str(tmp_path / "search-index")}


@pytest.fixture
async def app(app_config):
    await empty_database(app_config["DATABASE_URL"])
    app = create_app(app_config)
    async with app.test_app():
        yield app


@pytest.fixture
async def db(app):
    """A session of its own (not a request's), for setting up and checking data."""
    async with app.extensions["db_sessionmaker"]() as session:
        yield session


@pytest.fixture
async def app_context(app):
    """For model code that needs the app outside a request (never with a test client: requests
    would share this context's `g`)."""
    async with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


# --- data ---------------------------------------------------------------------------------------

# The same cheap Argon2 settings as TEST_CONFIG, usable outside an app context.
TEST_HASHER = PasswordHasher(time_cost=TEST_CONFIG["PASSWORD_HASH_TIME_COST"],
                             memory_cost=TEST_CONFIG["PASSWORD_HASH_MEMORY_COST"])


async def make_user(db, nickname: str, email: str | None = None, password: str = "correct horse") -> User:
    user = User(nickname=nickname, email=email or f"{nickname.lower()}@example.com",
                password_hash=TEST_HASHER.hash(password))
    db.add(user)
    await db.commit()
    return user


async def make_post(db, author: User, body: str, when=None) -> Post:
    post = Post(body=body, author=author, timestamp=when or utcnow(), language="")
    db.add(post)
    await db.commit()
    return post


async def follow(db, user: User, other: User) -> bool:
    """`user` follows `other`, committed (as a request would)."""
    followed = await follows.follow(db, user, other)
    await db.commit()
    return followed


async def unfollow(db, user: User, other: User) -> bool:
    unfollowed = await follows.unfollow(db, user, other)
    await db.commit()
    return unfollowed


@pytest.fixture
async def alice(db):
    return await make_user(db, "alice")


@pytest.fixture
async def bob(db):
    return await make_user(db, "bob")


@pytest.fixture
async def alice_client(client, alice):
    response = await login(client, "alice")
    assert response.status_code == 303
    return client
