"""The Procfile as a platform runs it: the release step, then Hypercorn serving real HTTP."""
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import free_port
from helpers import input_value

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent  # the venv running the tests (a worktree has none of its own)


def procfile() -> dict[str, str]:
    path = ROOT / "Procfile"
    if not path.exists():
        pytest.fail("Procfile is missing")
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    assert {"web", "release"} <= processes.keys(), processes
    return processes


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env.update({
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'microblog.sqlite'}",
        "SECRET_KEY": "serving-test-secret",
        "BASE_URL": "https://microblog.example",
        "MICROBLOG_DOTENV": str(tmp_path / "no.env"),  # a developer's .env must not leak in
        "LOG_TO_STDOUT": "1",  # keep the repository's instance/logs out of it
        "ACCESS_LOG": "1",
    })
    env.pop("QUART_DEBUG", None)
    env.update(extra)
    return env


def release(env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(["bash", "-c", procfile()["release"]], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "microblog.sqlite").exists()


class Server:
    """The Procfile's web line on a port of its own, stopped with SIGTERM like a platform does."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None, preexec_fn=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = open(log, "w")
        self.process = subprocess.Popen(
            ["bash", "-c", "exec " + procfile()["web"]], cwd=ROOT,
            env={**env, "PORT": str(self.port)}, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=preexec_fn)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited ({self.process.returncode}):\n{self.log.read_text()}")
            try:
                httpx.get(self.url + "/auth/login", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail(f"server did not answer in {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log_file.close()


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(env, log, **options) -> Server:
        server = Server(env, log, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_procfile_release_then_web(tmp_path, servers):
    env = environment(tmp_path)
    release(env, tmp_path)
    assert (ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.mo").exists()

    server = servers(env, tmp_path / "web.log")
    server.wait_ready()
    response = httpx.get(server.url + "/auth/login")
    assert response.status_code == 200
    assert "Sign In" in response.text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert httpx.get(server.url + "/static/app.css").status_code == 200
    es = httpx.get(server.url + "/auth/login", headers={"Accept-Language": "es"})
    assert '<html lang="es" ' in es.text

    server.stop()
    assert server.process.returncode is not None
    assert "GET /auth/login" in server.log.read_text()  # the access log goes to stdout


def test_login_slow_down_holds_across_processes(tmp_path, servers):
    # Plain http on 127.0.0.1 (like a Pi at home): cookies must not be Secure to come back.
    env = environment(tmp_path, SECURE_COOKIES="0",
                      PASSWORD_HASH_TIME_COST="1", PASSWORD_HASH_MEMORY_COST="1024")
    release(env, tmp_path)
    a, b = servers(env, tmp_path / "a.log"), servers(env, tmp_path / "b.log")
    a.wait_ready()
    b.wait_ready()

    with httpx.Client(base_url=a.url) as on_a, httpx.Client(base_url=b.url) as on_b:
        token = input_value(on_a.get("/auth/register").text, "csrf_token")
        response = on_a.post("/auth/register", data={
            "csrf_token": token, "nickname": "alice", "email": "alice@example.com",
            "password": "correct horse", "password2": "correct horse"})
        assert response.status_code == 303, response.text

        token_a = input_value(on_a.get("/auth/login").text, "csrf_token")
        token_b = input_value(on_b.get("/auth/login").text, "csrf_token")

        def attempt(client, token, password):
            return client.post("/auth/login", data={
                "csrf_token": token, "nickname": "alice", "password": password})

        # Five recorded failures on A (waiting out the short early delays), so the
        # delay that follows (4 s) leaves plenty of time to try on B.
        for _ in range(5):
            response = attempt(on_a, token_a, "wrong password")
            wait = re.search(r"Too many failed attempts. Try again in (\d+) seconds", response.text)
            if wait:
                time.sleep(int(wait.group(1)) + 0.1)
                response = attempt(on_a, token_a, "wrong password")
            assert "Invalid nickname or password." in response.text
        response = attempt(on_a, token_a, "wrong password")
        assert "Too many failed attempts" in response.text

        response = attempt(on_b, token_b, "correct horse")
        assert response.status_code == 422
        assert "Too many failed attempts" in response.text
        assert "QUART_AUTH" not in response.cookies
        assert on_b.get("/index").status_code == 302


def test_clients_that_hang_up_leave_no_errors(tmp_path, servers):
    """A browser that navigates away cancels its request; the database connection is still
    rolled back and pooled cleanly (no "Exception during reset" tracebacks in the log)."""
    env = environment(tmp_path)
    release(env, tmp_path)
    server = servers(env, tmp_path / "web.log")
    server.wait_ready()

    async def hang_up(path: str, after: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        await writer.drain()
        await asyncio.sleep(after)
        writer.transport.abort()

    async def many() -> None:
        rnd = random.Random(0)
        for _ in range(300):
            await asyncio.gather(*(hang_up(rnd.choice(["/explore", "/user/nobody"]), rnd.random() * 0.02)
                                   for _ in range(10)))

    asyncio.run(many())
    assert httpx.get(server.url + "/explore").status_code == 200
    server.stop()
    assert "Traceback" not in server.log.read_text(), server.log.read_text()[-6000:]


def test_reset_tokens_stay_out_of_the_access_log(tmp_path, servers):
    """The token of a reset link is a password for an hour: the access log keeps neither the
    request line nor the Referer of what the reset page loads."""
    env = environment(tmp_path)
    release(env, tmp_path)
    server = servers(env, tmp_path / "web.log")
    server.wait_ready()
    token = "SeCrEtToKeN.abc-123_xyz"
    httpx.get(f"{server.url}/auth/reset_password/{token}")
    httpx.get(f"{server.url}/static/app.css", headers={"Referer": f"{server.url}/auth/reset_password/{token}"})
    server.stop()
    log = server.log.read_text()
    assert '"GET /auth/reset_password/… 1.1" 303' in log  # the line is there…
    assert token not in log  # …without the token


def test_a_malformed_host_is_a_400_without_a_traceback(tmp_path, servers):
    env = environment(tmp_path)
    release(env, tmp_path)
    server = servers(env, tmp_path / "web.log")
    server.wait_ready()

    async def raw(host: str) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"GET /explore HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = await reader.read()
        writer.close()
        return answer

    for host in ["a" * 64 + ".example", "a..b", "[::1"]:
        assert asyncio.run(raw(host)).startswith(b"HTTP/1.1 400"), host
    server.stop()
    assert "Traceback" not in server.log.read_text()


def test_language_profiles_are_loaded_before_the_first_post(tmp_path):
    """The first post of a worker does not pay for loading langdetect's profiles."""
    script = (
        "import asyncio\n"
        "from microblog import create_app\n"
        "from microblog.posts import language as f\n"
        "app = create_app({'TESTING': True, 'JOBS_RUN_IN_WEB': False,"
        f" 'DATABASE_URL': 'sqlite+aiosqlite:///{tmp_path / 'x.sqlite'}'}})\n"
        "assert f._factory is None\n"
        "asyncio.run(app.startup())\n"
        "print('loaded' if f._factory is not None else 'not loaded')\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.strip() == "loaded", result.stderr
