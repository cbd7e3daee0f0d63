"""The inbox's throughput, in-process: signed deliveries from a known server checked (RSA-2048
signature, digest, the signer is the actor) and queued, a second, beside following and
unfollowing through the site's form (each one small write) and the hello world of the same stack
in the same run. No HTTP server and no job runner: the request path alone, one at a time, on a
fresh SQLite file.

    venv/bin/python bench/inbox.py [--count 500]
"""
import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
KEYS = Path(__file__).resolve().parent.parent / "tests" / "federation" / "keys"


async def run(count: int) -> None:
    from argon2 import PasswordHasher
    from sqlalchemy import insert

    from microblog import create_app
    from microblog.accounts.models import User
    from microblog.db import Base, make_engine, new_session
    from microblog.federation.models import ActorKey, RemoteActor
    from microblog.federation.signatures import sign

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/inbox.sqlite"
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "BASE_URL": "https://bench.example",
                          "FEDERATION": True, "JOBS_RUN_IN_WEB": False, "SESSION_COOKIE_SECURE": False,
                          "QUART_AUTH_COOKIE_SECURE": False, "SEARCH_INDEX_DIR": f"{folder}/search",
                          "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_COST": 64, "SLOW_QUERY_SECONDS": 5})
        actor = "https://peer.example/users/bob"
        private = (KEYS / "rsa-bob.pem").read_text()
        async with app.test_app():
            async with app.app_context():
                async with new_session() as db:
                    hasher = PasswordHasher(time_cost=1, memory_cost=64)
                    alice = User(nickname="alice", email="alice@example.org", password_hash=hasher.hash("password1"))
                    carol = User(nickname="carol", email="carol@example.org", password_hash=hasher.hash("password1"))
                    bob = User(nickname="bob", domain="peer.example")
                    db.add_all([alice, carol, bob])
                    await db.flush()
                    await db.execute(insert(RemoteActor).values(
                        user_id=bob.id, actor_id=actor, key_id=f"{actor}#main-key", inbox=f"{actor}/inbox",
                        shared_inbox="https://peer.example/inbox", fetched_at=datetime.now(timezone.utc)))
                    db.add(ActorKey(user_id=bob.id, public_key_pem=(KEYS / "rsa-bob.pub.pem").read_text()))
                    await db.commit()
            deliveries = []  # signed beforehand: the sender's work, not ours
            for n in range(count):
                body = json.dumps({"id": f"{actor}/likes/{n}", "type": "Like", "actor": actor,
                                   "object": f"https://bench.example/post/{n}"}).encode()
                headers = {"Content-Type": "application/activity+json"}
                headers.update(sign("POST", "https://bench.example/inbox", headers, body, f"{actor}#main-key", private))
                deliveries.append((body, headers))
            client = app.test_client()
            started = time.perf_counter()
            for body, headers in deliveries:
                response = await client.post("/inbox", data=body, headers=headers)
                assert response.status_code == 202, (response.status_code, await response.get_data(as_text=True))
            inbox_rate = count / (time.perf_counter() - started)

            person = app.test_client()
            async with person.session_transaction() as session:
                session["csrf_token"] = "bench"
            login = await person.post("/auth/login", form={"nickname": "carol", "password": "password1",
                                                           "csrf_token": "bench"})
            assert login.status_code == 303, login.status_code
            async with person.session_transaction() as session:
                token = session.setdefault("csrf_token", "bench")  # a log-in starts a new session
            started = time.perf_counter()
            for n in range(count):
                action = "follow" if n % 2 == 0 else "unfollow"
                response = await person.post(f"/{action}/alice", form={"csrf_token": token})
                assert response.status_code == 303, (action, response.status_code)
            follow_rate = count / (time.perf_counter() - started)
        from hello import app as hello  # bench/hello.py: the same stack's limit, through the same test client
        greeter = hello.test_client()
        started = time.perf_counter()
        for _ in range(count):
            assert (await greeter.get("/")).status_code == 200
        hello_rate = count / (time.perf_counter() - started)
        print(f"| hello world (same stack, in-process) | {hello_rate:.0f}/s |")
        print(f"| signed deliveries checked and queued | {inbox_rate:.0f}/s |")
        print(f"| follow or unfollow through the form | {follow_rate:.0f}/s |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    asyncio.run(run(parser.parse_args().count))
