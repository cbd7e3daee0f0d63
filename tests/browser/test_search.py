"""Search in the browser: the navbar box, then active search under the page's own box (htmx, the
address bar following), and the same with JavaScript off (the forms submit)."""
import asyncio
import re
import time

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, mark_page, publish_quickly, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def wait_until_found(page, *words: str, timeout: float = 20) -> None:
    """Setup: the server's job runner has indexed the posts with these words (it runs right after
    the commit, but a loaded machine may take a moment)."""
    deadline = time.monotonic() + timeout
    for word in words:
        while f"<mark>{word}</mark>" not in await (await page.request.get(f"/search?q={word}")).text():
            assert time.monotonic() < deadline, f"{word!r} was never indexed"
            await asyncio.sleep(0.1)  # polling the server's background work, not page synchronisation


async def test_active_search(new_page):
    page, _ = await new_page(js=True)
    await sign_up(page, "searcher")
    tea, cake = unique("tea"), unique("cake")
    await publish_quickly(page, [f"A cup of {tea} please", f"A slice of {cake} please"])
    await wait_until_found(page, tea, cake)

    await page.get_by_role("searchbox", name="Search").fill(tea)
    await page.get_by_role("searchbox", name="Search").press("Enter")
    await expect(page).to_have_url(re.compile(rf"/search\?q={tea}$"))
    await expect(page.locator("#search-results article")).to_have_count(1)
    await expect(page.locator("#search-results article mark")).to_have_text(tea)

    await page.wait_for_load_state("networkidle")  # htmx has processed the page: it listens to the box
    await mark_page(page)
    await page.get_by_label("Search posts").fill(cake)  # no Enter: results follow the typing
    await expect(page.locator("#search-results article")).to_contain_text(f"A slice of {cake} please")
    await expect(page.locator("#search-results")).to_contain_text("1 post found")
    await expect(page).to_have_url(re.compile(rf"/search\?q={cake}$"))
    await assert_not_reloaded(page)

    await page.get_by_label("Search posts").fill(unique("nothing"))
    await expect(page.locator("#search-results")).to_contain_text("No posts match your search.")
    await assert_not_reloaded(page)


async def test_search_without_javascript(new_page):
    page, _ = await new_page(js=False)
    await sign_up(page, "searcher")
    tea = unique("tea")
    await publish_quickly(page, [f"A cup of {tea} please"])
    await wait_until_found(page, tea)

    await page.get_by_role("searchbox", name="Search").fill(tea)
    await page.get_by_role("searchbox", name="Search").press("Enter")
    await expect(page).to_have_url(re.compile(rf"/search\?q={tea}$"))
    await expect(page.locator("#search-results article")).to_contain_text(f"A cup of {tea} please")

    await page.get_by_label("Search posts").fill(unique("nothing"))
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#search-results")).to_contain_text("No posts match your search.")
