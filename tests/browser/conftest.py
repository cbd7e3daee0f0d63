"""Fixtures: one served app and one Chromium per session, a fresh watched context per page."""
import tempfile
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright

from .support import CHROMIUM, live_server, open_page

_servers = []  # the running server, for the failure report below


@pytest.fixture(scope="session")
def server():
    # Not pytest's tmp_path: parallel pytest runs of other people prune old basetemp folders.
    with tempfile.TemporaryDirectory(prefix="microblog-browser-") as workdir:
        with live_server(Path(workdir)) as running:
            _servers.append(running)
            yield running
            _servers.remove(running)


@pytest.fixture
def own_server():
    """A server of the test's own (own port, own SQLite file in `.database`), for a test that
    stops it or breaks its database. Pages reach it with `new_page(on=own_server)`; its log is
    the test's to check (the shared server's is checked by `new_page`)."""
    with tempfile.TemporaryDirectory(prefix="microblog-own-server-") as workdir:
        with live_server(Path(workdir)) as running:
            _servers.append(running)
            yield running
            _servers.remove(running)


@pytest.fixture
def default_server():
    """A server of the test's own with the site's default settings where the shared one differs
    (POST_MAX_CHARS: 500, as a new site has it)."""
    with tempfile.TemporaryDirectory(prefix="microblog-default-server-") as workdir:
        with live_server(Path(workdir), POST_MAX_CHARS="500") as running:
            _servers.append(running)
            yield running
            _servers.remove(running)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for number, running in enumerate(_servers):
            title = "server log (last lines)" if number == 0 else f"{running.url} log (last lines)"
            report.sections.append((title, running.log_tail()))
    return report


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser():
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(**CHROMIUM)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(browser, server):
    """`await new_page(js=False, viewport=PHONE)` -> (page, problems).

    `on=` another LiveServer (default: the shared one); other keywords go to the browser
    context (e.g. `bypass_csp=True` to inject test tools).

    Each call is a fresh browser context (own cookies). When the test ends, every page it
    opened must have had no console error, no uncaught exception and no CSP violation, and
    the server must have logged no error.
    """
    opened = []
    log_start = server.log.stat().st_size

    async def _new_page(js: bool = True, viewport: dict | None = None, on=None, **context_options):
        context, page, problems = await open_page(browser, (on or server).url, js=js, viewport=viewport,
                                                  **context_options)
        opened.append((context, problems))
        return page, problems

    yield _new_page
    found = []
    for context, problems in opened:
        await context.close()
        found += problems.unexpected()
    found += server.errors_since(log_start)
    assert not found, "problems seen by the browser or the server:\n" + "\n".join(found)
