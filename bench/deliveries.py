"""Delivering one post to 1,000 followers on 100 servers: how long until every server has it, and
what the worker's memory does. In-process: the app's own job runner (fan-out, then one signed
delivery per server's shared inbox, JOBS_CONCURRENCY at a time) on a fresh SQLite file; the 100
servers are one counting sink in another process, listening on 127.0.0.2–127.0.0.101 (loopback,
hence FEDERATION_ALLOW_PRIVATE_ADDRESSES here only).

    venv/bin/python bench/deliveries.py [--followers 1000] [--hosts 100] [--posts 3]
"""
import argparse
import asyncio
import multiprocessing
import socket
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def sink(port: int, counter) -> None:
    """Answers 202 to every POST and counts them (any of 127.0.0.0/8)."""
    async def handle(reader, writer):
        try:
            await answer(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()  # the client closed its connection

    async def answer(reader, writer):
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            with counter.get_lock():
                counter.value += 1
            writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()

    async def main():
        server = await asyncio.start_server(lambda r, w: handle(r, w), "0.0.0.0", port)
        async with server:
            await server.serve_forever()
    asyncio.run(main())


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(followers: int, hosts: int, posts: int) -> None:
    from sqlalchemy import insert

    from microblog import create_app
    from microblog.accounts.models import User
    from microblog.db import Base, make_engine, new_session
    from microblog.federation.models import RemoteActor
    from microblog.follows.models import followers as followers_table
    from microblog.posts.models import Post

    port = free_port()
    counter = multiprocessing.Value("i", 0)
    process = multiprocessing.Process(target=sink, args=(port, counter), daemon=True)
    process.start()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/deliveries.sqlite"
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()
        config = {"DATABASE_URL": url, "SECRET_KEY": "bench", "BASE_URL": "https://bench.example",
                  "FEDERATION": True, "FEDERATION_ALLOW_PRIVATE_ADDRESSES": True, "JOBS_POLL_SECONDS": 0.05,
                  "SEARCH_INDEX_DIR": f"{folder}/search", "SLOW_QUERY_SECONDS": 5}
        app = create_app(config)
        async with app.test_app():  # the job runner starts with it
            async with app.app_context():
                async with new_session() as db:
                    alice = User(nickname="alice", email="alice@example.org", password_hash="x")
                    db.add(alice)
                    await db.flush()
                    now = datetime.now(timezone.utc)
                    remote = [{"nickname": f"f{n}", "domain": f"127.0.0.{2 + n % hosts}"} for n in range(followers)]
                    ids = list(await db.scalars(insert(User).returning(User.id), remote))
                    actors = []
                    for user_id, person in zip(ids, remote):
                        base = f"http://{person['domain']}:{port}"
                        actors.append({"user_id": user_id, "actor_id": f"{base}/users/{person['nickname']}",
                                       "key_id": f"{base}/users/{person['nickname']}#main-key",
                                       "inbox": f"{base}/users/{person['nickname']}/inbox",
                                       "shared_inbox": f"{base}/inbox", "fetched_at": now})
                    await db.execute(insert(RemoteActor), actors)
                    await db.execute(insert(followers_table), [{"follower_id": i, "followed_id": alice.id, "timestamp": now}
                                                               for i in ids])
                    await db.commit()
                    alice_id = alice.id
            print(f"{followers} followers on {hosts} servers; RSS at start {rss_mib():.0f} MiB\n")
            print("| post | servers reached | seconds | RSS after, MiB |")
            print("|---|---:|---:|---:|")
            for n in range(posts):
                start_count = counter.value
                async with app.app_context():
                    async with new_session() as db:
                        author = await db.get(User, alice_id)
                        await Post.publish(db, author, f"Post {n} for everyone")
                        await db.commit()
                started = time.perf_counter()
                app.extensions["job_runner"].wake()
                while counter.value - start_count < hosts:
                    if time.perf_counter() - started > 120:
                        break
                    await asyncio.sleep(0.01)
                print(f"| {n + 1} | {counter.value - start_count} | {time.perf_counter() - started:.2f} | {rss_mib():.0f} |")
    process.terminate()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--posts", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.followers, arguments.hosts, arguments.posts))
