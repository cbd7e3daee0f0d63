"""Faults, served as the Procfile serves (release step first, 2 workers, a real port): a worker
killed, the supervisor killed, a deploy's SIGTERM while requests are in flight; then the
supervisor's and a worker's rarer paths in this process, with stand-in workers."""
import asyncio
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

import httpx
import pytest
from hypercorn.config import Config as HypercornConfig
from sqlalchemy import text

from conftest import POSTGRES_URL, TEST_CONFIG, free_port, reset_schema
from microblog import create_app, serve
from microblog.config import normalise_database_url
from microblog.db import make_engine
from microblog.serve import Supervisor
from helpers import input_value
from test_serving import ROOT, Server, environment, release, servers  # noqa: F401 (a fixture)

WORKERS = 2
RUNNING_ON = re.compile(r"\[(\d+)\] \[INFO\] Running on http")
ACCESS = re.compile(r'\[(\d+)\] \[INFO\] \S+ - - \[[^\]]+\] "(\w+) (\S+) 1\.1" (\d+)')
FAST_HASHING = {"PASSWORD_HASH_TIME_COST": "1", "PASSWORD_HASH_MEMORY_COST": "1024", "SECURE_COOKIES": "0"}


@pytest.fixture(scope="module")
def released_sqlite(tmp_path_factory) -> Path:
    """The release step once (migrations, compiled catalogues); each test copies its database."""
    folder = tmp_path_factory.mktemp("released")
    release(environment(folder), folder)
    return folder / "microblog.sqlite"


@pytest.fixture
def sqlite_env(tmp_path, released_sqlite) -> dict[str, str]:
    shutil.copy(released_sqlite, tmp_path / "microblog.sqlite")
    return environment(tmp_path, WEB_CONCURRENCY=str(WORKERS), **FAST_HASHING)


def wait_for(condition, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"{what}: not within {timeout} s" + (f"\n{log.read_text()[-4000:]}" if log else ""))


def children(pid: int) -> set[int]:
    try:
        return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except FileNotFoundError:
        return set()


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def serving_workers(server: Server) -> set[int]:
    """The supervisor's workers that are accepting connections (Hypercorn said so)."""
    running = {int(pid) for pid in RUNNING_ON.findall(server.log.read_text())}
    workers = children(server.process.pid)
    return workers if len(workers) == WORKERS and workers <= running else set()


def start(servers, env: dict[str, str], tmp_path: Path) -> Server:
    server = servers(env, tmp_path / "web.log")
    server.wait_ready(timeout=60)
    wait_for(lambda: serving_workers(server), 60, "both workers serving", server.log)
    return server


def logged_in(server: Server) -> httpx.Client:
    """A keep-alive client logged in as alice (registered on first use)."""
    client = httpx.Client(base_url=server.url, timeout=20)
    token = input_value(client.get("/auth/register").text, "csrf_token")
    client.post("/auth/register", data={"csrf_token": token, "nickname": "alice", "email": "alice@example.com",
                                        "password": "correct horse", "password2": "correct horse"})
    token = input_value(client.get("/auth/login").text, "csrf_token")
    response = client.post("/auth/login", data={"csrf_token": token, "nickname": "alice",
                                                "password": "correct horse"})
    assert response.status_code == 303, response.text
    return client


def publish(client: httpx.Client, body: str, submission: str) -> int:
    token = input_value(client.get("/index").text, "csrf_token")
    return client.post("/post", data={"csrf_token": token, "post": body, "submission": submission}).status_code


def bodies(database_url: str) -> list[str]:
    async def query():
        engine = make_engine(normalise_database_url(database_url))
        async with engine.connect() as conn:
            found = list((await conn.execute(text("SELECT body FROM post"))).scalars())
        await engine.dispose()
        return found
    return asyncio.run(query())


def no_traceback(server: Server) -> None:
    log = server.log.read_text()
    assert "Traceback" not in log, log[-6000:]


@pytest.fixture(params=["sqlite"] + (["postgresql"] if POSTGRES_URL else []))
def database_env(request, sqlite_env, tmp_path) -> dict[str, str]:
    if request.param == "sqlite":
        return sqlite_env
    asyncio.run(reset_schema(normalise_database_url(POSTGRES_URL), create_tables=False))
    env = {**sqlite_env, "DATABASE_URL": POSTGRES_URL}
    release(env, tmp_path)
    return env


def test_a_killed_worker_is_replaced_and_no_acknowledged_post_is_lost(database_env, tmp_path, servers):
    server = start(servers, database_env, tmp_path)
    before = children(server.process.pid)
    stop, acknowledged, sent, errors = threading.Event(), [], [], []

    def keep_posting(name: str, client: httpx.Client) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            body, submission = f"{name} post {number}", secrets.token_urlsafe(16)
            sent.append(body)
            for _ in range(10):  # a cut connection is retried with the same submission token
                try:
                    status = publish(client, body, submission)
                except httpx.TransportError:
                    time.sleep(0.1)
                    continue
                (acknowledged if status == 303 else errors).append(body if status == 303 else status)
                break

    posters = [threading.Thread(target=keep_posting, args=(f"client {n}", logged_in(server))) for n in range(3)]
    for poster in posters:
        poster.start()
    try:
        wait_for(lambda: len(acknowledged) >= 6, 30, "posts before the kill", server.log)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()

        failures = 0
        while time.monotonic() - killed < 10:  # new connections, as browsers make them
            try:
                if httpx.get(server.url + "/explore", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                failures += 1
                time.sleep(0.05)
        serving_again = time.monotonic() - killed
        wait_for(lambda: serving_workers(server) and victim not in serving_workers(server), 30,
                 "a replacement worker serving", server.log)
        replaced = time.monotonic() - killed
        posted_before_replaced = len(acknowledged)
        wait_for(lambda: len(acknowledged) >= posted_before_replaced + 6, 30, "posts after the kill", server.log)
    finally:
        stop.set()
        for poster in posters:
            poster.join(timeout=30)
    print(f"\nkill -9 of a worker: serving again after {serving_again:.2f} s ({failures} refused), "
          f"replaced after {replaced:.2f} s; {len(acknowledged)} posts acknowledged of {len(sent)}")

    assert not errors
    assert serving_again < 3
    assert len(children(server.process.pid)) == WORKERS
    assert f"worker {victim} died (killed by SIGKILL)" in server.log.read_text()
    stored = bodies(database_env["DATABASE_URL"])
    assert all(stored.count(body) == 1 for body in acknowledged)  # stored, once
    assert all(stored.count(body) <= 1 for body in sent)  # a retried post is not stored twice
    server.process.send_signal(signal.SIGTERM)  # to the supervisor alone: it passes it on
    assert server.process.wait(timeout=30) == 0
    assert "shut down: every worker has stopped" in server.log.read_text()
    no_traceback(server)


@pytest.fixture
def postgres_env(sqlite_env, tmp_path) -> dict[str, str]:
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    asyncio.run(reset_schema(normalise_database_url(POSTGRES_URL), create_tables=False))
    env = {**sqlite_env, "DATABASE_URL": POSTGRES_URL, "DB_LOCK_TIMEOUT_MS": "1000"}
    release(env, tmp_path)
    return env


def on_postgres(statements, hold: float = 0) -> None:
    """Run `statements` on a connection of the test's own, holding its transaction `hold` seconds."""
    async def run():
        engine = make_engine(normalise_database_url(POSTGRES_URL))
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
            await asyncio.sleep(hold)
            await conn.rollback()
        await engine.dispose()
    asyncio.run(run())


def test_terminated_connections_and_a_held_lock_answer_503_then_heal(postgres_env, tmp_path, servers):
    """PostgreSQL's connections cut under the workers (a failover, a restart), then a table locked
    for a while (a migration): requests answer 503 with Retry-After, never 500; a client retrying
    with the same submission token stores each post once; no traceback escapes the app."""
    server = start(servers, postgres_env, tmp_path)
    stop, acknowledged, statuses = threading.Event(), [], []

    def keep_posting(name: str, client: httpx.Client) -> None:
        token = input_value(client.get("/index").text, "csrf_token")
        number = 0
        while not stop.is_set():
            number += 1
            body, submission = f"{name} post {number}", secrets.token_urlsafe(16)
            for _ in range(100):
                response = client.post("/post", data={"csrf_token": token, "post": body, "submission": submission})
                statuses.append(response.status_code)
                if response.status_code != 503:
                    break
                assert response.headers["Retry-After"]
                time.sleep(0.1)
            if response.status_code == 303:
                acknowledged.append(body)

    posters = [threading.Thread(target=keep_posting, args=(f"client {n}", logged_in(server))) for n in range(3)]
    for poster in posters:
        poster.start()
    try:
        wait_for(lambda: len(acknowledged) >= 6, 30, "posts before the faults", server.log)
        for _ in range(3):
            on_postgres(["SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()"])
            time.sleep(0.3)
        on_postgres(["LOCK TABLE post IN ACCESS EXCLUSIVE MODE"], hold=2.5)
        after_lock = len(acknowledged)
        wait_for(lambda: len(acknowledged) >= after_lock + 6, 30, "posts after the faults", server.log)
    finally:
        stop.set()
        for poster in posters:
            poster.join(timeout=30)
    print(f"\nterminated connections and a 2.5 s lock: {len(acknowledged)} posts acknowledged, "
          f"{statuses.count(503)} answers 503, others {sorted(set(statuses) - {303, 503})}")

    assert set(statuses) <= {303, 503} and 503 in statuses
    stored = bodies(postgres_env["DATABASE_URL"])
    assert all(stored.count(body) == 1 for body in acknowledged)
    log = server.log.read_text()
    assert "another operation is in progress" not in log
    no_traceback(server)


def test_an_outside_sqlite_write_lock_answers_503_then_heals(sqlite_env, tmp_path, servers):
    """Someone else holds SQLite's write lock longer than the busy timeout (a backup, a `sqlite3`
    shell): posts answer 503 with Retry-After, reads go on, and posting works again after."""
    server = start(servers, {**sqlite_env, "DB_BUSY_TIMEOUT_MS": "500"}, tmp_path)
    client = logged_in(server)
    token = input_value(client.get("/index").text, "csrf_token")

    def post(body: str, htmx: bool = False) -> httpx.Response:
        return client.post("/post", headers={"HX-Request": "true"} if htmx else {},
                           data={"csrf_token": token, "post": body, "submission": secrets.token_urlsafe(16)})

    lock = sqlite3.connect(tmp_path / "microblog.sqlite", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        refused = [post("while locked"), post("while locked", htmx=True)]
        assert client.get("/explore").status_code == 200
    finally:
        lock.rollback()
        lock.close()
    assert [r.status_code for r in refused] == [503, 503]
    assert all(r.headers["Retry-After"] for r in refused)
    assert "try again in a moment" in refused[0].text and "<html" not in refused[1].text
    assert post("after the lock").status_code == 303
    assert bodies(sqlite_env["DATABASE_URL"]) == ["after the lock"]
    no_traceback(server)


def test_killing_the_supervisor_stops_its_workers(sqlite_env, tmp_path, servers):
    server = start(servers, sqlite_env, tmp_path)
    workers = children(server.process.pid)
    server.process.kill()
    killed = time.monotonic()
    try:
        wait_for(lambda: not any(alive(pid) for pid in workers), 10, "orphaned workers gone", server.log)
    finally:
        for pid in workers:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    print(f"\nkill -9 of the supervisor: its workers gone after {time.monotonic() - killed:.2f} s")
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/explore", timeout=2)
    assert "its supervisor is gone" in server.log.read_text()
    no_traceback(server)


def test_sigterm_lets_requests_in_flight_finish(sqlite_env, tmp_path, servers):
    """A deploy: the platform sends SIGTERM to every process while posts wait for the database
    (the test holds SQLite's write lock for a while); they all end with their 303."""
    server = start(servers, sqlite_env, tmp_path)
    clients = [logged_in(server) for _ in range(6)]
    tokens = [input_value(client.get("/index").text, "csrf_token") for client in clients]
    statuses: list[int | str] = []

    def post(client: httpx.Client, token: str, n: int) -> None:
        try:
            statuses.append(client.post("/post", data={"csrf_token": token, "post": f"in flight {n}",
                                                       "submission": secrets.token_urlsafe(16)}).status_code)
        except httpx.TransportError as error:
            statuses.append(repr(error))

    lock = sqlite3.connect(tmp_path / "microblog.sqlite", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # every write now waits (DB_BUSY_TIMEOUT_MS: 5 s)
    posts = [threading.Thread(target=post, args=(client, token, n))
             for n, (client, token) in enumerate(zip(clients, tokens))]
    try:
        for thread in posts:
            thread.start()
        time.sleep(0.7)
        assert not statuses  # all in flight
        os.killpg(server.process.pid, signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(1)
    finally:
        lock.rollback()
        lock.close()
    for thread in posts:
        thread.join(timeout=15)
    server.process.wait(timeout=30)
    print(f"\nSIGTERM with {len(posts)} posts in flight: answers {statuses}, "
          f"exit status {server.process.returncode} after {time.monotonic() - signalled:.2f} s")

    assert statuses == [303] * len(posts)
    assert server.process.returncode == 0
    assert sorted(bodies(sqlite_env["DATABASE_URL"])) == sorted(f"in flight {n}" for n in range(len(posts)))
    log = server.log.read_text()
    assert "shutting down (SIGTERM)" in log and "shut down: every worker has stopped" in log
    assert log.count("finishing the requests in flight") == WORKERS
    no_traceback(server)


def test_keep_alive_clients_land_on_every_worker(sqlite_env, tmp_path, servers):
    server = start(servers, sqlite_env, tmp_path)
    workers = serving_workers(server)
    clients = [httpx.Client(base_url=server.url, timeout=20) for _ in range(12)]
    try:
        for _ in range(5):
            for client in clients:
                assert client.get("/explore").status_code == 200
    finally:
        for client in clients:
            client.close()

    def served() -> list[int]:  # a line is written just after its answer is sent
        pids = [int(pid) for pid, method, path, status in ACCESS.findall(server.log.read_text()) if path == "/explore"]
        return pids if len(pids) == 60 else []

    served = wait_for(served, 5, "60 lines in the access log", server.log)
    share = {pid: served.count(pid) for pid in workers}
    print(f"\n12 keep-alive clients, 60 requests: {share}")
    assert sum(share.values()) == 60, share
    assert all(count > 0 for count in share.values()), share


def test_an_app_that_cannot_start_stops_the_supervisor(tmp_path, servers):
    env = environment(tmp_path, WEB_CONCURRENCY=str(WORKERS))
    del env["SECRET_KEY"]
    server = servers(env, tmp_path / "web.log")
    server.process.wait(timeout=60)
    log = server.log.read_text()
    assert server.process.returncode == 1
    assert "the app cannot start: SECRET_KEY is not set" in log
    assert "giving up" in log
    no_traceback(server)


# --- the supervisor and a worker in this process, with stand-in workers: quick ---------------

@pytest.fixture
def restored():
    """The supervisor and worker code set signal handlers and logging: put them back."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    logger = logging.getLogger("microblog")
    saved, level = list(logger.handlers), logger.level
    yield
    for number, handler in handlers.items():
        signal.signal(number, handler)
    logger.handlers[:] = saved
    logger.setLevel(level)


def stand_in(code: str) -> list[str]:
    return [sys.executable, "-c", "import signal, sys, time, pathlib\n" + code]


SERVES = "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\ntime.sleep(60)"


def supervise(supervisor: Supervisor, meanwhile) -> int:
    """Run `supervisor` here; `meanwhile(supervisor)` runs beside it, then SIGTERM stops it."""
    errors = []

    def beside() -> None:
        try:
            meanwhile(supervisor)
        except BaseException as error:
            errors.append(error)
        finally:
            if signal.getsignal(signal.SIGTERM) == supervisor._stop_requested:
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                supervisor.stop_signal = signal.SIGTERM

    thread = threading.Thread(target=beside)
    thread.start()
    try:
        return supervisor.run()
    finally:
        thread.join(timeout=30)
        assert not errors, errors


def until(condition, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("not in time")
        time.sleep(0.02)


def test_the_supervisor_replaces_a_dead_worker_and_passes_sigterm_on(restored, caplog):
    caplog.set_level(logging.INFO, logger="microblog.serve")
    victims = []

    def kill_one(supervisor: Supervisor) -> None:
        until(lambda: len(supervisor.workers) == 2)
        victims.append(supervisor.workers[0].process.pid)
        os.kill(victims[0], signal.SIGKILL)
        until(lambda: 0 in supervisor.workers and supervisor.workers[0].process.pid != victims[0])

    assert supervise(Supervisor(stand_in(SERVES), 2, graceful_timeout=1), kill_one) == 0
    assert f"worker {victims[0]} died (killed by SIGKILL)" in caplog.text
    assert caplog.text.count(" started") == 3
    assert "shutting down (SIGTERM)" in caplog.text and "shut down: every worker has stopped" in caplog.text


def test_a_worker_that_will_not_stop_is_killed(restored, caplog, monkeypatch, tmp_path):
    monkeypatch.setattr(serve, "STOP_MARGIN", 0)
    ready = tmp_path / "ready"
    stubborn = stand_in(f"signal.signal(signal.SIGTERM, signal.SIG_IGN)\npathlib.Path({str(ready)!r}).touch()\n"
                        "time.sleep(60)")
    assert supervise(Supervisor(stubborn, 1, graceful_timeout=0.2), lambda _: until(ready.exists)) == 1
    assert "did not stop in time: killed" in caplog.text


@pytest.mark.parametrize("status, reason", [
    (7, "died (exit status 7), the 5th in a row within 10 s of starting"),
    (serve.APP_CANNOT_START, "could not create the app"),
])
def test_workers_that_cannot_keep_running_make_the_supervisor_give_up(status, reason, restored, caplog):
    assert Supervisor(stand_in(f"sys.exit({status})"), 2, graceful_timeout=1, backoff=0.01).run() == 1
    assert "giving up: worker" in caplog.text and reason in caplog.text


def test_an_address_in_use_stops_the_supervisor_at_once(restored, caplog, monkeypatch, tmp_path):
    monkeypatch.setenv("MICROBLOG_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.setenv("LOG_TO_STDOUT", "1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bind = "127.0.0.1:%d" % taken.getsockname()[1]
        assert serve.main(["--config", str(ROOT / "hypercorn.toml"), "--bind", bind]) == 1
    assert f"cannot serve on {bind}: [Errno 98] Address already in use" in caplog.text


def test_a_worker_whose_app_cannot_be_created_says_so(restored, caplog, monkeypatch, tmp_path):
    monkeypatch.setenv("MICROBLOG_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.setenv("LOG_TO_STDOUT", "1")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("QUART_DEBUG", raising=False)
    assert serve.main(["--worker", "--config", str(ROOT / "hypercorn.toml")]) == serve.APP_CANNOT_START
    assert "the app cannot start: SECRET_KEY is not set" in caplog.text
    assert "Traceback" not in caplog.text


async def test_a_worker_stops_on_sigterm_or_when_its_supervisor_is_gone(restored, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="microblog.serve")
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.sqlite'}"
    await reset_schema(url)
    port = free_port()

    def worker(parent: int):
        app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "JOBS_RUN_IN_WEB": False})
        config = HypercornConfig.from_mapping(graceful_timeout=1,
                                              bind=[f"fd://{serve.bound_socket('127.0.0.1', port).detach()}"])
        return asyncio.create_task(serve._serve(app, config, parent))

    asked = worker(os.getppid())
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            with suppress(httpx.TransportError):
                assert (await client.get(f"http://127.0.0.1:{port}/auth/login")).status_code == 200
                break
            await asyncio.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)  # the worker's own handler takes it
    await asyncio.wait_for(asked, 10)
    assert "stopping (asked to)" in caplog.text

    await asyncio.wait_for(worker(parent=-1), 20)  # not its parent: as if the supervisor had died
    assert "stopping (its supervisor is gone)" in caplog.text
    assert caplog.text.count(" stopped") == 2
