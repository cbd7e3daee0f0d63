"""The served process (`python -m microblog.serve`, the Procfile's web line) when operated and when
abused: SIGHUP, a second server on the same address, request bodies that never come, more
connections than a worker can hold, WebSocket upgrades, requests framed two ways."""
import asyncio
import os
import re
import resource
import signal
import time

import httpx
import hypercorn.asyncio.run as hypercorn_run
import pytest
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig

from conftest import free_port
from microblog.deployment.connections import CountedTCPServer, limit_connections
from test_serving import environment, release, servers  # noqa: F401 (servers: a fixture)

HEADERS_OF_A_POST = (b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n")


def served(tmp_path, servers, log="web.log", **settings):
    env = environment(tmp_path, **settings)
    release(env, tmp_path)
    server = servers(env, tmp_path / log)
    server.wait_ready()
    return server


def wait_for(condition, what: str, server, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        if server.process.poll() is not None:
            pytest.fail(f"the server exited ({server.process.returncode}) while waiting for {what}:\n"
                        + server.log.read_text()[-3000:])
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}:\n" + server.log.read_text()[-3000:])


def started_workers(log: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"worker (\d+) started", log)]


async def raw_exchange(port: int, request: bytes, timeout: float = 30) -> bytes:
    """Everything the server sends back until it closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


# --- #7: SIGHUP, a second server --------------------------------------------------------------

def test_sighup_replaces_the_workers_one_by_one_and_keeps_serving(tmp_path, servers):
    server = served(tmp_path, servers, WEB_CONCURRENCY="2")
    wait_for(lambda: len(started_workers(server.log.read_text())) == 2, "two workers", server)
    old = set(started_workers(server.log.read_text()))

    os.kill(server.process.pid, signal.SIGHUP)  # `systemctl reload` (ExecReload=kill -HUP $MAINPID)
    answered = failed = 0
    while "every worker replaced" not in server.log.read_text():
        if server.process.poll() is not None:
            pytest.fail(f"the supervisor exited ({server.process.returncode}):\n{server.log.read_text()}")
        try:
            answered += httpx.get(server.url + "/auth/login", timeout=30).status_code == 200
        except httpx.TransportError:
            failed += 1
    print(f"during the reload: {answered} requests answered, {failed} failed")

    log = server.log.read_text()
    assert "SIGHUP" in log
    new = set(started_workers(log)) - old
    assert len(new) == 2, log
    assert all(f"worker {pid} stopped" in log for pid in old), log
    assert httpx.get(server.url + "/auth/login", timeout=30).status_code == 200
    assert answered > 0
    assert server.process.poll() is None


def test_a_reload_whose_new_worker_cannot_start_leaves_the_old_one_serving(tmp_path, servers):
    server = served(tmp_path, servers)
    (old,) = started_workers(server.log.read_text())
    (tmp_path / "no.env").write_text("TRANSLATOR=nonsense\n")  # the .env a new worker reads: it cannot start
    os.kill(server.process.pid, signal.SIGHUP)
    wait_for(lambda: "reload abandoned" in server.log.read_text(), "the reload to be given up", server)
    log = server.log.read_text()
    assert "it could not create the app" in log and "TRANSLATOR='nonsense'" in log
    assert httpx.get(server.url + "/auth/login", timeout=30).status_code == 200
    assert f"worker {old} stop" not in log

    (tmp_path / "no.env").unlink()
    os.kill(server.process.pid, signal.SIGHUP)
    wait_for(lambda: "every worker replaced" in server.log.read_text(), "a reload", server)
    assert f"worker {old} stopped" in server.log.read_text()
    assert httpx.get(server.url + "/auth/login", timeout=30).status_code == 200


def test_a_second_server_on_the_same_address_refuses_to_start(tmp_path, servers):
    first = served(tmp_path, servers)
    env = environment(tmp_path)
    second = servers(env, tmp_path / "second.log", port=first.port)
    status = second.process.wait(timeout=60)
    log = second.log.read_text()
    assert status != 0, log
    assert f"0.0.0.0:{first.port}" in log  # the Procfile's address
    assert f"supervisor {first.process.pid}" in log  # who holds it
    assert httpx.get(first.url + "/auth/login", timeout=30).status_code == 200


# --- #10: slow bodies, too many connections ------------------------------------------------------

def test_a_body_that_never_comes_is_cut_by_body_timeout(tmp_path, servers):
    server = served(tmp_path, servers, BODY_TIMEOUT="2", REQUEST_TIMEOUT="300")
    answer = asyncio.run(raw_exchange(server.port, HEADERS_OF_A_POST, timeout=40))  # Quart's own: 60 s
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]


async def held_posts(port: int, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Connections that sent a POST's headers and none of its body."""
    held = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEADERS_OF_A_POST)
        await writer.drain()
        held.append((reader, writer))
    return held


def test_a_request_head_that_never_ends_is_cut(tmp_path, servers):
    """Hypercorn's keep_alive_timeout (5 s) runs from the connection until a whole head has come."""
    server = served(tmp_path, servers)
    answer = asyncio.run(raw_exchange(server.port, b"GET /explore HTTP/1.1\r\nHost: 127.0.0.1\r\n", timeout=40))
    assert answer == b""  # closed, nothing answered


def test_beyond_max_connections_the_longest_waiting_are_closed(tmp_path, servers):
    server = served(tmp_path, servers, MAX_CONNECTIONS="20", BODY_TIMEOUT="300", REQUEST_TIMEOUT="300")

    async def scenario() -> tuple[int, int]:
        held = await held_posts(server.port, 40)
        async with httpx.AsyncClient() as client:
            status = (await client.get(server.url + "/explore", timeout=30)).status_code
        ends = [asyncio.ensure_future(reader.read()) for reader, _ in held]
        deadline = time.monotonic() + 30
        while sum(end.done() for end in ends) < 20 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        closed = sum(end.done() for end in ends)
        for end in ends:
            end.cancel()
        for _, writer in held:
            writer.close()
        return status, closed

    status, closed = asyncio.run(scenario())
    assert status == 200
    assert closed >= 20  # 40 waiting for their bodies, 20 at most kept
    log = server.log.read_text()
    assert "MAX_CONNECTIONS (20) connections open: closing those that waited longest" in log
    assert "Traceback" not in log, log[-3000:]


async def test_when_every_connection_is_busy_a_new_one_is_answered_503(monkeypatch):
    """Hypercorn in this process, serving a stand-in app whose answers take a while."""
    monkeypatch.setattr(hypercorn_run, "TCPServer", hypercorn_run.TCPServer)  # put back after
    monkeypatch.setattr(CountedTCPServer, "open", {})
    limit_connections(5)
    answers = asyncio.Event()

    async def slow(scope, receive, send):
        if scope["type"] == "http":
            await answers.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"done"})

    port = free_port()
    config = HypercornConfig.from_mapping(bind=[f"127.0.0.1:{port}"], graceful_timeout=1)
    stop = asyncio.Event()
    serving = asyncio.create_task(hypercorn_serve(slow, config, shutdown_trigger=stop.wait))

    async def status_line() -> bytes:
        for _ in range(200):  # until it listens
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return (await asyncio.wait_for(reader.readline(), 30)).strip()

    busy = [asyncio.create_task(status_line()) for _ in range(5)]
    while len(CountedTCPServer.open) < 5 or not all(c.in_request for c in CountedTCPServer.open):
        await asyncio.sleep(0.05)
    assert await status_line() == b"HTTP/1.1 503 Service Unavailable"
    answers.set()
    assert await asyncio.gather(*busy) == [b"HTTP/1.1 200"] * 5
    stop.set()
    await asyncio.wait_for(serving, 30)


def few_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def test_more_connections_than_the_file_limit_leave_a_request_answered(tmp_path, servers):
    env = environment(tmp_path, BODY_TIMEOUT="300", REQUEST_TIMEOUT="300")
    release(env, tmp_path)
    server = servers(env, tmp_path / "web.log", preexec_fn=few_files)
    server.wait_ready()

    async def scenario() -> int:
        held = await held_posts(server.port, 300)
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(server.url + "/explore", timeout=30)).status_code
        finally:
            for _, writer in held:
                writer.close()

    assert asyncio.run(scenario()) == 200
    assert "MAX_CONNECTIONS (128) connections open" in server.log.read_text()  # 256 files less 128


# --- #13: WebSocket upgrades, Content-Length with Transfer-Encoding ---------------------------------

def test_a_websocket_upgrade_is_refused_without_a_traceback(tmp_path, servers):
    server = served(tmp_path, servers)
    upgrade = (b"GET /explore HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    answer = asyncio.run(raw_exchange(server.port, upgrade))
    assert re.match(rb"HTTP/1.1 40[034] ", answer), answer[:300]
    assert httpx.get(server.url + "/auth/login", timeout=30).status_code == 200
    server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]


def test_content_length_with_transfer_encoding_is_refused_and_the_connection_closed(tmp_path, servers):
    server = served(tmp_path, servers)
    smuggled = b"GET /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    body = b"0\r\n\r\n" + smuggled  # a proxy going by Content-Length passes it all on as one request
    request = (b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
               b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body)) + body
    answer = asyncio.run(raw_exchange(server.port, request))
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert answer.count(b"HTTP/1.1 ") == 1, answer  # the smuggled request is not answered
    assert b"\r\nconnection: close\r\n" in answer.lower()
