"""Helpers for the browser tests: a real Hypercorn server, a watched Chromium page, accounts.

The app runs as it does in production (migrations, then Hypercorn with hypercorn.toml) on a
fresh SQLite file; Chromium is Debian's, driven by Playwright's async API.
"""
import base64
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"

CHROMIUM = {
    "executable_path": "/usr/bin/chromium",
    "headless": True,
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"],
}

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# A 1x1 grey PNG: what "Gravatar" answers (this machine has no internet); grey, so avatars
# show up as squares in the screenshots.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNYu3UvAAQyAiAqTkj2AAAAAElFTkSuQmCC")

# Reports every CSP violation of every document to the test (survives navigations).
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCsp(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique(prefix: str) -> str:
    """A nickname (or text) no other test uses: tests share one server."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# --- the server ------------------------------------------------------------------------------

@dataclass
class LiveServer:
    url: str
    log: Path
    database: Path | None = None  # the SQLite file it serves
    process: subprocess.Popen | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop serving (again is fine): to the browser, a server that is down or unreachable."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def errors_since(self, offset: int) -> list[str]:
        """Server errors logged after `offset` (a traceback, an answer with status 5xx)."""
        with self.log.open(errors="replace") as log:
            log.seek(offset)
            text = log.read()
        found = [f"server: {line}" for line in text.splitlines() if re.search(r'ERROR|" 5\d\d ', line)]
        return found + (["server: traceback:\n" + text[-4000:]] if "Traceback" in text else [])


def server_env(database: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "SECRET_KEY": "browser-test-secret",
        "BASE_URL": "http://127.0.0.1",  # links in mail; pages use relative links
        "SECURE_COOKIES": "0",
        "POSTS_PER_PAGE": "5",
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_COST": "64",
        "LOG_TO_STDOUT": "1",  # into the server log below, not instance/logs
        "QUART_DEBUG": "0",
        "MICROBLOG_DOTENV": str(database.parent / "no.env"),  # a developer's .env stays out
        "SEARCH_INDEX_DIR": str(database.parent / "search-index"),
    }


def wait_until_answering(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Hypercorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/auth/login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling a process we started, not page synchronisation
    raise RuntimeError(f"Hypercorn did not answer within {timeout} s:\n{log.read_text()}")


@contextmanager
def live_server(workdir: Path, port: int | None = None, **settings: str):
    """Migrate a fresh SQLite file and serve the app with Hypercorn on a free loopback port, or on
    `port` (taken with free_port() first, when a setting must name it, as BASE_URL does for a site
    that federates); `settings`: more environment, e.g. POST_MAX_CHARS="500"."""
    database = workdir / "browser.sqlite"
    env = {**server_env(database), **settings}
    migrate = subprocess.run([sys.executable, "-m", "quart", "--app", "microblog", "db", "upgrade"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if migrate.returncode != 0:
        raise RuntimeError(f"db upgrade failed:\n{migrate.stdout}\n{migrate.stderr}")

    port = port or free_port()
    log = workdir / "hypercorn.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "hypercorn", "-c", "hypercorn.toml", "--bind", f"127.0.0.1:{port}",
             "microblog:create_app()"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", log, database, process)
    try:
        wait_until_answering(server.url, process, log)
        yield server
    finally:
        server.stop()


# --- a watched page --------------------------------------------------------------------------

@dataclass
class Problems:
    """Console errors, uncaught exceptions and CSP violations seen by one browser context."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow_console_error(self, pattern: str) -> None:
        """An error the test expects, e.g. Chromium logging the app's deliberate 422."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        console = [m for m in self.console_errors if not any(p.search(m) for p in self.allowed)]
        return ([f"console: {m}" for m in console] + [f"page error: {m}" for m in self.page_errors]
                + [f"CSP: {m}" for m in self.csp_violations])


async def open_page(browser: Browser, base_url: str, *, js: bool = True,
                    viewport: dict | None = None, **context_options) -> tuple[BrowserContext, Page, Problems]:
    """A page in a fresh context; `context_options` go to `new_context` (e.g. bypass_csp=True)."""
    context = await browser.new_context(base_url=base_url, java_script_enabled=js,
                                        viewport=viewport or DESKTOP, **context_options)
    problems = Problems()
    await context.route("https://www.gravatar.com/**", lambda route: route.fulfill(
        status=200, content_type="image/png", body=TINY_PNG))
    # With JavaScript off the listener never runs, but Chromium still logs every violation as a
    # console error, which the console handler below collects.
    await context.expose_binding("__reportCsp", lambda _source, text: problems.csp_violations.append(text))
    await context.add_init_script(CSP_WATCH)
    page = await context.new_page()
    page.on("console", lambda message: message.type == "error" and problems.console_errors.append(
        f"{message.text} ({page.url})"))
    page.on("pageerror", lambda error: problems.page_errors.append(f"{error} ({page.url})"))
    return context, page, problems


async def mark_page(page: Page) -> None:
    """Set a marker that only survives if the document is never reloaded."""
    await page.evaluate("window.__noReload = 'still here'")


async def assert_not_reloaded(page: Page) -> None:
    assert await page.evaluate("window.__noReload") == "still here", "the page was reloaded"


# --- accounts --------------------------------------------------------------------------------

async def register(page: Page, nickname: str, password: str = PASSWORD) -> None:
    await page.goto("/auth/register")
    await page.get_by_label("Nickname").fill(nickname)
    await page.get_by_label("Email").fill(f"{nickname.lower()}@example.com")
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_label("Repeat password").fill(password)
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(re.compile(r"/auth/login$"))
    await expect(page.locator("#flashes")).to_contain_text("you are now a registered user")


async def log_in(page: Page, nickname: str, password: str = PASSWORD) -> None:
    await page.goto("/auth/login")
    await page.get_by_label("Nickname").fill(nickname)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign In").click()
    await expect(page).to_have_url(re.compile(r"/index$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Hi, {nickname}!")


async def sign_up(page: Page, prefix: str = "user") -> str:
    """Register a fresh account through the forms and log in; its nickname."""
    nickname = unique(prefix)
    await register(page, nickname)
    await log_in(page, nickname)
    return nickname


async def publish_quickly(page: Page, bodies: list[str]) -> None:
    """Posts made with the page's cookies but without its UI (setup, not what is tested)."""
    token = await page.locator("input[name=csrf_token]").first.input_value()
    for body in bodies:
        response = await page.request.post("/post", form={"post": body, "csrf_token": token})
        assert response.ok, await response.text()


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
