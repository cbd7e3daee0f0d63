"""Correctness under load, served as the Procfile serves with 2 workers: 16 clients posting,
following and unfollowing at once (half through htmx), on SQLite (WAL) and PostgreSQL. Every
acknowledged change is in the database, once; nothing answers 5xx; nothing is "database is locked"."""
import asyncio
import random
import secrets
import threading

import httpx
from sqlalchemy import text

from helpers import input_value
from microblog.config import normalise_database_url
from microblog.db import make_engine
from test_faults import bodies, database_env, no_traceback, released_sqlite, sqlite_env, start  # noqa: F401
from test_serving import servers  # noqa: F401 (a fixture)

CLIENTS = 16
ROUNDS = 8


def register(server, nickname: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=server.url, timeout=30)
    token = input_value(client.get("/auth/register").text, "csrf_token")
    response = client.post("/auth/register", data={
        "csrf_token": token, "nickname": nickname, "email": f"{nickname}@example.com",
        "password": "correct horse", "password2": "correct horse"})
    assert response.status_code == 303, response.text
    response = client.post("/auth/login", data={"csrf_token": token, "nickname": nickname, "password": "correct horse"})
    assert response.status_code == 303, response.text
    return client, input_value(client.get("/index").text, "csrf_token")


def follows(database_url: str) -> set[tuple[str, str]]:
    async def query():
        engine = make_engine(normalise_database_url(database_url))
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                'SELECT a.nickname, b.nickname FROM followers f JOIN "user" a ON a.id = f.follower_id '
                'JOIN "user" b ON b.id = f.followed_id'))).all()
        await engine.dispose()
        return {tuple(row) for row in rows}
    return asyncio.run(query())


def test_many_clients_writing_at_once_lose_nothing_and_see_no_error(database_env, tmp_path, servers):
    server = start(servers, database_env, tmp_path)
    nicknames = [f"user{n}" for n in range(CLIENTS)]
    clients = [register(server, nickname) for nickname in nicknames]
    acknowledged_posts, following, failures = [], {}, []
    go = threading.Barrier(CLIENTS)

    def work(me: str, client: httpx.Client, token: str) -> None:
        rng = random.Random(me)
        go.wait()
        for round_ in range(ROUNDS):
            htmx = {"HX-Request": "true"} if round_ % 2 else {}
            body = f"{me} says {round_}"
            response = client.post("/post", headers=htmx, data={
                "csrf_token": token, "post": body, "submission": secrets.token_urlsafe(16)})
            if response.status_code in (200, 303):
                acknowledged_posts.append(body)
            else:
                failures.append(("post", response.status_code, response.text[:200]))
            other = rng.choice([n for n in nicknames if n != me])
            action = rng.choice(["follow", "unfollow"])
            response = client.post(f"/user/{other}/{action}", headers=htmx, data={"csrf_token": token})
            if response.status_code in (200, 303):
                following[(me, other)] = action == "follow"
            else:
                failures.append((action, response.status_code, response.text[:200]))

    threads = [threading.Thread(target=work, args=(nickname, *client))
               for nickname, client in zip(nicknames, clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures
    assert len(acknowledged_posts) == CLIENTS * ROUNDS
    stored = bodies(database_env["DATABASE_URL"])
    assert sorted(stored) == sorted(acknowledged_posts)
    assert follows(database_env["DATABASE_URL"]) == {pair for pair, on in following.items() if on}
    log = server.log.read_text()
    assert "database is locked" not in log
    no_traceback(server)
