"""Serve the app on loopback with N workers, load each page with wrk (logged-in sessions), and print
requests/s, latency percentiles, errors and worker memory beside the hello-world limit of the same
stack measured in the same run. Run it through bench/run (it installs wrk and seeds data)."""
import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from microblog.config import normalise_database_url  # noqa: E402
from microblog.db import make_engine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "venv" / "bin"
DATA = ROOT / "bench" / "data"
POST_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, nil, "post=benchmark+post+" .. counter .. "+" .. math.random(1000000000))
end
"""


FOLLOW_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  local action = (counter % 2 == 1) and "follow" or "unfollow"
  return wrk.format("POST", "/user/user" .. (1000 + math.floor((counter - 1) / 2) % 500) .. "/" .. action)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """The app served as the README serves it (`python -m microblog.serve`, WEB_CONCURRENCY
    workers); or, with `app`, that ASGI app under plain Hypercorn with as many workers."""

    def __init__(self, workers: int, env: dict, log: Path, app: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "w")
        bind = f"127.0.0.1:{self.port}"
        command = ([str(BIN / "hypercorn"), "--bind", bind, "-w", str(workers), "-k", "uvloop", app] if app else
                   [str(BIN / "python"), "-m", "microblog.serve", "--bind", bind])
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**env, "WEB_CONCURRENCY": str(workers)}, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/", timeout=5)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit(f"{app} did not start; see {log}")
                time.sleep(0.2)

    def workers(self) -> list[int]:
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return sorted(int(p) for p in children.split()) or [self.process.pid]

    def cpu_seconds(self) -> list[float]:
        """CPU time each worker has used so far (user + system)."""
        ticks = os.sysconf("SC_CLK_TCK")
        return [sum(int(n) for n in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]) / ticks
                for pid in self.workers()]

    def worker_rss_mib(self) -> list[float]:
        """Resident memory of each worker process (the supervisor's own is not counted)."""
        sizes = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
        return sizes

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def wrk(url: str, duration: int, connections: int, headers: dict, script: str | None = None) -> dict:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        output = subprocess.run(command + [url], capture_output=True, text=True, timeout=duration + 60).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for percentile in ("50", "90", "99"):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        figures[f"p{percentile}"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    figures["errors"] = (int(errors.group(1)) if errors else 0) + (
        sum(int(n) for n in socket_errors.groups()) if socket_errors else 0)
    return figures


def log_in(base: str, nickname: str) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a logged-in browser."""
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        page = client.get("/auth/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/auth/login", data={"nickname": nickname, "password": "benchmark",
                                                     "csrf_token": token})
        assert response.status_code == 303, f"log-in failed: {response.status_code}"
        page = client.get("/index").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        return cookie, token


def next_page_url(base: str, cookie: str) -> str:
    page = httpx.get(base + "/index", headers={"Cookie": cookie}).text
    return base + re.search(r'hx-get="([^"]+cursor=[^"]+)"', page).group(1).replace("&amp;", "&")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="a database URL (default: bench/data/bench.sqlite, seeded if missing)")
    parser.add_argument("--seed", action="store_true", help="seed the database again first")
    parser.add_argument("--remote", type=int, default=0,
                        help="seed this many users as people from elsewhere (bench/data/bench-remote-N.sqlite)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", type=lambda value: value.split(","),
                        help="only these, comma-separated: timeline,heavy,next,explore,profile,login,search,post,follow")
    args = parser.parse_args()

    DATA.mkdir(parents=True, exist_ok=True)
    file = DATA / (f"bench-remote-{args.remote}.sqlite" if args.remote else "bench.sqlite")
    database = args.database or f"sqlite:///{file}"
    if args.seed or (not args.database and not file.exists()):
        subprocess.run([sys.executable, str(ROOT / "bench" / "seed.py"), database, "--remote", str(args.remote)],
                       check=True)
    env = {**os.environ, "DATABASE_URL": database, "SECRET_KEY": "bench", "BASE_URL": "http://127.0.0.1",
           "SECURE_COOKIES": "0", "LOG_TO_STDOUT": "1", "MICROBLOG_DOTENV": str(DATA / "no.env"),
           "SLOW_QUERY_SECONDS": "5", "SEARCH_INDEX_DIR": str(DATA / "search-index")}
    env.pop("QUART_DEBUG", None)

    rows = []
    hello = Server(args.workers, env, DATA / "hello.log", app="bench.hello:app")
    try:
        rows.append(("hello world (same stack)", wrk(hello.url + "/", args.duration, args.connections, {}), []))
    finally:
        hello.stop()

    app = Server(args.workers, env, DATA / "app.log")
    try:
        cookie, token = log_in(app.url, "user1")
        heavy_cookie, _ = log_in(app.url, f"user{count_users(database)}")
        logged_in = {"Cookie": cookie}
        writing = {**logged_in, "HX-Request": "true", "X-CSRFToken": token,
                   "Content-Type": "application/x-www-form-urlencoded"}
        pages = [
            ("timeline", "home timeline", app.url + "/index", logged_in, None),
            ("heavy", "home timeline, following 5,000", app.url + "/index", {"Cookie": heavy_cookie}, None),
            ("next", "next page (htmx fragment)", next_page_url(app.url, cookie), {**logged_in, "HX-Request": "true"}, None),
            ("explore", "explore", app.url + "/explore", logged_in, None),
            ("profile", "a profile", app.url + "/user/user2", logged_in, None),
            ("login", "login page (visitor)", app.url + "/auth/login", {}, None),
            ("post", "publish a post (htmx)", app.url + "/post", writing, POST_SCRIPT),
            ("follow", "follow / unfollow (htmx)", app.url + "/", writing, FOLLOW_SCRIPT),
            ("search", "search, a rare word", app.url + "/search?q=123457", logged_in, None),
            ("search", "search, a common word (active search, htmx)", app.url + "/search?q=book",
             {**logged_in, "HX-Request": "true"}, None),
        ]
        for key, name, url, headers, script in pages:
            if args.pages and key not in args.pages:
                continue
            before = app.cpu_seconds()
            figures = wrk(url, args.duration, args.connections, headers, script)
            used = [after - start for after, start in zip(app.cpu_seconds(), before)]
            rows.append((name, figures, [100 * u / (sum(used) or 1) for u in used]))
        rss = app.worker_rss_mib()
    finally:
        app.stop()

    limit = rows[0][1]["rps"]
    print(f"\n{args.workers} workers, {args.connections} connections, {args.duration} s each, "
          f"database {database.split('://')[0]}\n")
    print("| page | req/s | % of hello world | p50 ms | p90 ms | p99 ms | errors | CPU share per worker |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, f, shares in rows:
        print(f"| {name} | {f['rps']:.0f} | {100 * f['rps'] / limit:.1f}% | {f['p50']:.1f} | {f['p90']:.1f} "
              f"| {f['p99']:.1f} | {f['errors']} | {' / '.join(f'{share:.0f}%' for share in shares)} |")
    print(f"\nworker RSS after the run: {', '.join(f'{size:.0f} MiB' for size in rss)}")


def count_users(database: str) -> int:
    async def query():
        engine = make_engine(normalise_database_url(database))
        async with engine.connect() as conn:
            found = await conn.scalar(text('SELECT max(id) FROM "user"'))
        await engine.dispose()
        return found
    return asyncio.run(query())


if __name__ == "__main__":
    main()
