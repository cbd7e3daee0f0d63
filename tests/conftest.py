"""Fixtures: an app on a real database (SQLite file, and PostgreSQL when TEST_DATABASE_URL is set)."""
import os
import re
import socket
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from microblog import create_app
from microblog.config import normalise_database_url
from microblog import follows
from microblog.accounts import User
from microblog.db import Base, make_engine, utcnow
from microblog.posts import Post

# Servers that tests run as processes (tests/browser, test_serving.py) read their settings from
# this environment: the browser tests' shared server registers dozens of accounts from 127.0.0.1
# within minutes, far past the per-client limit meant for people (tested in test_lockout.py).
os.environ.setdefault("REGISTRATIONS_PER_CLIENT", "1000")

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_COST": 64,
    "SESSION_COOKIE_SECURE": False,
    "QUART_AUTH_COOKIE_SECURE": False,
    "POSTS_PER_PAGE": 3,
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 9,  # nothing listens: tests that read mail start their own server
    "SERVER_NAME": None,
    "JOBS_POLL_SECONDS": 60,  # a new job wakes the runner; tests of retries poll faster
}


def pytest_sessionstart(session):
    """Compiled catalogues, as `quart translate compile` makes them (*.mo are not committed)."""
    from microblog.cli import pybabel
    pybabel("compile", "-d", str(Path(__file__).resolve().parent.parent / "translations"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def reset_schema(url: str, create_tables: bool = True) -> None:
    """An empty database: with the models' tables, or with nothing at all (for migrations)."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        if create_tables:
            await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    if request.param == "postgresql":
        return normalise_database_url(POSTGRES_URL)
    return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def app_config(database_url) -> dict:
    return {**TEST_CONFIG, "DATABASE_URL": database_url}


@pytest.fixture
async def app(app_config):
    await reset_schema(app_config["DATABASE_URL"])
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


async def csrf_token(client) -> str:
    async with client.session_transaction() as session:
        session.setdefault("csrf_token", "test-csrf-token")
        return session["csrf_token"]


async def post(client, url: str, data: dict | None = None, htmx: bool = False, **kwargs):
    """POST as the site's own forms do: with the CSRF token (as a header for htmx)."""
    token = await csrf_token(client)
    headers = kwargs.pop("headers", {})
    form = dict(data or {})
    if htmx:
        headers = {"HX-Request": "true", "X-CSRFToken": token, **headers}
    else:
        form["csrf_token"] = token
    return await client.post(url, form=form, headers=headers, **kwargs)


async def login(client, nickname: str, password: str = "correct horse", remember: bool = False):
    data = {"nickname": nickname, "password": password}
    if remember:
        data["remember_me"] = "y"
    return await post(client, "/auth/login", data)


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


async def text_of(response) -> str:
    return await response.get_data(as_text=True)


def flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(
        r'<div class="alert[^"]*"[^>]*>(.*?)<button', html, re.S)]
