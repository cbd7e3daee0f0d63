"""axe-core on the main pages, in light and dark colours: no violation at all (contrast included).

axe is injected into the pages by the test (a browser context with `bypass_csp=True`, so the
site's strict CSP does not stop the test's own script; the site's pages are not changed). The
watcher still fails the test on console errors, and each page's response is checked for the
CSP header, since a context that bypasses CSP cannot report violations of it.
"""
import json
from pathlib import Path

import pytest
from playwright.async_api import expect

from .support import DESKTOP, PHONE, publish_quickly, register, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

# axe-core 4.14.1 (npm pack axe-core@4, package/axe.min.js; see vendor/VENDORED.md).
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("minor", "moderate", "serious", "critical")  # every violation

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""


async def axe_violations(page) -> list[dict]:
    """The serious and critical violations axe finds in the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    return [v for v in await page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]


def describe(name: str, url: str, violations: list[dict]) -> str:
    lines = [f"{name} ({url}):"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            summary = " ".join(node["summary"].split())
            lines.append(f"      {node['target']}: {summary[:300]}")
    return "\n".join(lines)


def assert_strict_csp(url: str, response) -> None:
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy, f"{url}: CSP {policy!r}"
    assert "unsafe" not in policy, f"{url}: CSP {policy!r}"


async def visit(page, url: str, status: int = 200) -> None:
    response = await page.goto(url)
    assert response is not None and response.status == status, f"{url}: {response and response.status}"
    assert_strict_csp(url, response)
    await page.wait_for_load_state("networkidle")  # htmx has processed the page (and any sentinel)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
async def test_no_accessibility_violations(new_page, device, viewport, scheme):
    """In the browser's light and dark colours (the site's "automatic" theme follows them)."""
    friend_page, _ = await new_page(js=False)
    friend = unique("friend")
    await register(friend_page, friend)

    page, problems = await new_page(js=True, viewport=viewport, bypass_csp=True, color_scheme=scheme)
    problems.allow_console_error(r"the server responded with a status of (404|422)")  # deliberate
    report = []

    async def check(name: str, url: str, ready=None, status: int = 200) -> None:
        await visit(page, url, status)
        if ready is not None:
            await expect(ready(page)).to_be_visible()
        violations = await axe_violations(page)
        if violations:
            report.append(describe(name, url, violations))

    await check("login", "/auth/login")
    await check("register", "/auth/register")

    me = await sign_up(page, "axe")
    await publish_quickly(page, ["A first post to look at.", "And a second one, with a link-free body."])
    await page.goto(f"/user/{friend}")
    await page.get_by_role("button", name=f"Follow {friend}", exact=True).click()
    await expect(page.get_by_role("button", name=f"Unfollow {friend}", exact=True)).to_be_visible()

    first_post = lambda p: p.locator("#posts article").first  # noqa: E731
    await check("timeline", "/index", first_post)
    await check("explore", "/explore", first_post)
    await check("own profile", f"/user/{me}", first_post)
    await check("another's profile", f"/user/{friend}", lambda p: p.locator(".follow-box").first)
    await check("edit profile", "/edit_profile")
    await check("followers list", f"/user/{friend}/followers", lambda p: p.locator(".user-row").first)
    await check("following list", f"/user/{me}/following", lambda p: p.locator(".user-row").first)
    await check("appearance", "/appearance")
    await check("not found", f"/user/{unique('nobody')}", status=404)

    # A refused form: errors tied to their fields.
    await page.goto("/edit_profile")
    await page.get_by_label("Nickname").fill("no spaces allowed")
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.get_by_role("button", name="Save").click()
    assert (await answer.value).status == 422
    await expect(page.get_by_label("Nickname")).to_have_attribute("aria-invalid", "true")
    await page.wait_for_load_state()  # the refused page's stylesheets are in (its text can come first)
    violations = await axe_violations(page)
    if violations:
        report.append(describe("edit profile, refused", "/edit_profile", violations))

    assert not report, (f"axe found violations ({device}, {scheme}):\n"
                        + "\n".join(report))


async def test_axe_reports_a_known_problem(new_page):
    """The check itself works: a page broken on purpose (an unlabelled field) is caught."""
    page, _ = await new_page(js=True, bypass_csp=True)
    await visit(page, "/auth/login")
    await page.evaluate("document.querySelector('label[for=nickname]').remove()")
    ids = [v["id"] for v in await axe_violations(page)]
    assert "label" in ids, json.dumps(ids)
