"""The strict Content-Security-Policy: on every response the browser gets from the app (pages,
htmx fragments, redirects, errors, static files), and nothing the pages do violates it (the
page watcher fails the test on any violation)."""
import re

import pytest
from playwright.async_api import expect

from .support import publish_quickly, register, sign_up, unique

pytestmark = [pytest.mark.browser]
in_session_loop = pytest.mark.asyncio(loop_scope="session")

EXPECTED_REFUSALS = r"the server responded with a status of (404|422)"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def policy_problem(policy: str | None) -> str | None:
    if not policy:
        return "no Content-Security-Policy header"
    found = directives(policy)
    if found.get("default-src") == ["'none'"]:  # a document that loads and runs nothing (an SVG avatar)
        if found.get("script-src", ["'none'"]) != ["'none'"]:
            return f"script-src is {found.get('script-src')}"
    elif found.get("default-src") != ["'self'"]:
        return f"default-src is {found.get('default-src')}"
    elif found.get("script-src") != ["'self'"]:
        return f"script-src is {found.get('script-src')}"
    if re.search(r"unsafe-(inline|eval|hashes)|wasm-unsafe-eval|\*", policy):
        return "an unsafe source or wildcard"
    return None


class ResponseLog:
    """Every response from the app's origin that a page receives, with its CSP header."""

    def __init__(self, origin: str):
        self.origin = origin
        self.seen: list[tuple[int, str, str, str | None]] = []

    def watch(self, page) -> None:
        page.on("response", self._record)

    async def _record(self, response) -> None:
        if response.url.startswith(self.origin):
            policy = await response.header_value("content-security-policy")
            self.seen.append((response.status, response.request.method, response.url, policy))

    def problems(self) -> list[str]:
        return [f"{status} {method} {url}: {problem}" for status, method, url, policy in self.seen
                if (problem := policy_problem(policy))]

    def statuses(self) -> set[int]:
        return {status for status, *_ in self.seen}


def test_policy_check_rejects_weak_policies():
    assert policy_problem("default-src 'self'; script-src 'self'; object-src 'none'") is None
    assert policy_problem(None)
    assert policy_problem("default-src 'self'; script-src 'self' 'unsafe-inline'")
    assert policy_problem("default-src 'self'; script-src 'self' 'unsafe-eval'")
    assert policy_problem("default-src *; script-src 'self'")
    assert policy_problem("default-src 'self'")  # scripts must be named explicitly
    assert policy_problem("default-src 'none'; frame-ancestors 'none'; sandbox") is None  # stricter
    assert policy_problem("default-src 'none'; script-src 'self'")
    assert policy_problem("default-src 'none'; img-src *")


@in_session_loop
async def test_every_response_with_htmx_has_the_strict_policy(new_page, server):
    log = ResponseLog(server.url)
    other, _ = await new_page(js=False)
    star = unique("star")
    await register(other, star)

    page, problems = await new_page(js=True)
    problems.allow_console_error(EXPECTED_REFUSALS)
    log.watch(page)
    await sign_up(page, "strict")
    await publish_quickly(page, [unique(f"older {n}") for n in range(6)])  # more than a page

    await page.goto("/index")
    await page.get_by_label("Say something").fill(unique("Under a strict CSP"))
    await page.get_by_role("button", name="Submit").click()  # htmx: fragment + out-of-band form
    await expect(page.locator("#posts article").first).to_contain_text("Under a strict CSP")
    await page.get_by_role("button", name="Submit").click()  # htmx: 422, the form again
    await expect(page.locator("#post-errors")).to_be_visible()

    page.on("dialog", lambda dialog: dialog.accept())
    await page.locator("#posts article").first.get_by_role("button", name="Delete").click()  # htmx
    await expect(page.locator("#flashes")).to_contain_text("Your post has been deleted.")

    await page.goto(f"/user/{star}")
    await page.get_by_role("button", name=f"Follow {star}", exact=True).click()  # htmx fragment
    await expect(page.get_by_role("button", name=f"Unfollow {star}", exact=True)).to_be_visible()

    await page.goto("/explore")
    await page.mouse.wheel(0, 10_000)  # htmx: the next page, when the sentinel shows
    await expect(page.locator("#posts article").nth(5)).to_be_attached()  # 5 a page
    await page.goto(f"/user/{unique('nobody')}")  # 404 page
    await page.goto("/edit")  # an old URL: a redirect

    assert not log.problems(), "responses without the strict CSP:\n" + "\n".join(log.problems())
    assert {200, 301, 404, 422} <= log.statuses(), log.statuses()
    assert any(url.split("?")[0].endswith(".js") for _, _, url, _ in log.seen), "static files were not checked"
    assert any("/avatar/" in url for _, _, url, _ in log.seen), "avatars were not checked"


@in_session_loop
async def test_every_response_without_javascript_has_the_strict_policy(new_page, server):
    log = ResponseLog(server.url)
    page, problems = await new_page(js=False)
    problems.allow_console_error(EXPECTED_REFUSALS)
    log.watch(page)
    await sign_up(page, "plain")  # form posts answered with redirects
    await page.get_by_label("Say something").fill(unique("Plain HTML"))
    await page.get_by_role("button", name="Submit").click()
    await expect(page.locator("#flashes")).to_contain_text("Your post is now live!")
    await page.get_by_role("button", name="Submit").click()  # 422 page
    await expect(page.locator("#post-errors")).to_be_visible()
    await page.goto("/no/such/page")

    assert not log.problems(), "responses without the strict CSP:\n" + "\n".join(log.problems())
    assert {200, 303, 404, 422} <= log.statuses(), log.statuses()
