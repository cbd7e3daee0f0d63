"""The icons and the web app manifest as Chromium fetches them: the icon a page links, the
manifest it reads for "Add to home screen" and the icons that names, /favicon.ico; nothing
answers 404. (tests/deployment/test_icons.py checks the same addresses from the server's side.)"""
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

FETCH = """async (url) => {
  const answer = await fetch(url, {cache: "no-store"});
  let width = 0;  // as decoded: 0 if it is no picture the browser can draw here (an SVG too)
  try { width = (await createImageBitmap(await answer.blob())).width; } catch (error) {}
  return {status: answer.status, type: answer.headers.get("content-type").split(";")[0], width};
}"""


async def fetch(page, url: str) -> dict:
    """`url` fetched by the page (under its CSP, never from the cache): status, type, width."""
    return await page.evaluate(FETCH, url)


def media_type(response) -> str:
    return response.headers["content-type"].split(";")[0]


async def test_the_favicon_and_manifest_load(new_page, browser, server):
    page, _ = await new_page(js=True)
    answers = []
    page.context.on("response", lambda answer: answers.append(answer))
    log_start = server.log.stat().st_size

    # Chromium fetches the icon the page links by itself, right after the page.
    async with page.context.expect_event("response", lambda r: "/static/icons/" in r.url) as fetched:
        await page.goto("/explore")
    icon = await fetched.value
    links = page.locator("head link[rel=icon]")
    kinds = dict(zip(await links.evaluate_all("(links) => links.map((link) => link.href)"),
                     await links.evaluate_all("(links) => links.map((link) => link.type)")))
    assert icon.status == 200 and icon.url in kinds and media_type(icon) == kinds[icon.url]
    manifest_url = await page.locator("head link[rel=manifest]").evaluate("(link) => link.href")
    touch_icon = await page.locator("head link[rel=apple-touch-icon]").evaluate("(link) => link.href")

    # The manifest as Chromium fetches and reads it.
    cdp = await page.context.new_cdp_session(page)
    async with page.context.expect_event("response", lambda r: r.url == manifest_url) as fetched:
        manifest = await cdp.send("Page.getAppManifest")
    answer = await fetched.value
    assert answer.status == 200 and media_type(answer) == "application/manifest+json"
    assert manifest["url"] == manifest_url and manifest["errors"] == []
    icons = {icon["sizes"]: icon for icon in manifest["manifest"]["icons"]}
    assert set(icons) == {"192x192", "512x512"}
    # Installable as far as Chromium can tell in a private window (Playwright's contexts are).
    problems = (await cdp.send("Page.getInstallabilityErrors"))["installabilityErrors"]
    assert [problem["errorId"] for problem in problems if problem["errorId"] != "in-incognito"] == []
    await cdp.detach()

    for sizes, entry in icons.items():
        assert entry["type"] == "image/png"
        assert await fetch(page, entry["url"]) == {"status": 200, "type": "image/png",
                                                   "width": int(sizes.split("x")[0])}
    for url, kind in kinds.items():  # every icon the page links, not only the one Chromium chose
        assert {**await fetch(page, url), "width": None} == {"status": 200, "type": kind, "width": None}
    assert await fetch(page, touch_icon) == {"status": 200, "type": "image/png", "width": 180}
    # What browsers ask for whatever a page says (and for addresses that are no page). Playwright
    # aborts every request for a /favicon.ico in a context that routes requests (new_page's
    # does: Gravatar), so this one is asked in a plain context.
    plain = await browser.new_context(base_url=server.url)
    try:
        other = await plain.new_page()
        await other.goto("/explore")
        assert await fetch(other, "/favicon.ico") == {"status": 200, "type": "image/png", "width": 32}
    finally:
        await plain.close()

    assert [f"{answer.status} {answer.url}" for answer in answers if answer.status >= 400] == []
    with server.log.open(errors="replace") as log:  # Hypercorn's access log: a line per request
        log.seek(log_start)
        assert [line for line in log if '" 404 ' in line] == []
