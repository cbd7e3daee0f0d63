"""Paging through /explore (5 posts a page): infinite scroll with htmx, links without JavaScript."""
import re

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, mark_page, publish_quickly, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

# Short enough that the first page's sentinel starts below the fold.
SHORT_WINDOW = {"width": 1280, "height": 400}


async def twelve_posts(page) -> list[str]:
    """Twelve new posts (the newest on the server), newest first, as /explore lists them."""
    tag = unique("scroll")
    bodies = [f"{tag} post {n:02d}" for n in range(1, 13)]
    await publish_quickly(page, bodies)
    return bodies[::-1]


def articles(page):
    return page.locator("#posts article")


async def test_infinite_scroll_with_htmx(new_page):
    page, _ = await new_page(js=True, viewport=SHORT_WINDOW)
    await sign_up(page, "scroller")
    newest_first = await twelve_posts(page)
    next_pages = []
    page.on("request", lambda request: "cursor=" in request.url and next_pages.append(request.url))

    await page.goto("/explore")
    await page.wait_for_load_state("networkidle")
    await expect(articles(page)).to_have_count(5)
    assert next_pages == [], "the next page loaded before anyone scrolled"
    await mark_page(page)

    await page.mouse.wheel(0, 10_000)
    await expect(articles(page)).to_have_count(10)
    await page.mouse.wheel(0, 10_000)
    await expect(articles(page).nth(11)).to_contain_text(newest_first[11])
    assert len(next_pages) == 2

    texts = await articles(page).locator(".post-body").all_inner_texts()
    assert texts[:12] == newest_first  # in order, each exactly once
    ids = await articles(page).evaluate_all("els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)), "a post appears twice"
    await expect(page).to_have_url(re.compile(r"/explore$"))
    await assert_not_reloaded(page)


async def test_older_and_newer_links_without_javascript(new_page):
    page, _ = await new_page(js=False)
    await sign_up(page, "pager")
    newest_first = await twelve_posts(page)
    bodies = articles(page).locator(".post-body")
    older = page.get_by_role("link", name="Older posts")
    newer = page.get_by_role("link", name="Newer posts")

    await page.goto("/explore")
    await expect(bodies).to_have_text(newest_first[:5])
    await expect(newer).to_have_count(0)

    await older.click()
    await expect(page).to_have_url(re.compile(r"/explore\?cursor="))
    await expect(bodies).to_have_text(newest_first[5:10])
    await expect(newer).to_be_visible()

    await older.click()
    await expect(bodies.nth(0)).to_have_text(newest_first[10])
    await expect(bodies.nth(1)).to_have_text(newest_first[11])

    await newer.click()
    await expect(bodies).to_have_text(newest_first[5:10])
    await newer.click()
    await expect(bodies).to_have_text(newest_first[:5])
    await expect(newer).to_have_count(0)
