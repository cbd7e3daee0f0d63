"""The post form with htmx: the first post replaces "No posts yet", a double click publishes once."""
import asyncio
import re

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, mark_page, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

EMPTY_TIMELINE = "No posts yet. Write one, or follow people from Explore."


async def test_first_post_with_htmx_hides_the_empty_list_message(new_page):
    page, _ = await new_page(js=True)
    await sign_up(page, "newcomer")
    await page.goto("/index")
    await mark_page(page)
    empty = page.locator("#posts .empty-list")
    await expect(empty).to_have_text(EMPTY_TIMELINE)
    await expect(empty).to_be_visible()
    body = unique("My very first post")

    await page.get_by_label("Say something").fill(body)
    await page.get_by_role("button", name="Submit").click()

    await expect(page.locator("#posts article").first).to_contain_text(body)
    await expect(page.get_by_text(EMPTY_TIMELINE)).to_be_hidden()
    await assert_not_reloaded(page)

    await page.reload()  # and the server agrees: the list is not empty any more
    await expect(page.locator("#posts article", has_text=body)).to_have_count(1)
    await expect(page.locator(".empty-list")).to_have_count(0)


async def test_double_click_on_submit_publishes_once(new_page):
    page, _ = await new_page(js=True)
    await sign_up(page, "eager")
    await page.goto("/index")
    await mark_page(page)
    body = unique("Said once, clicked twice")
    sent = []

    async def slow_server(route):
        """A server that takes its time, so the second click lands while the first is on its way."""
        sent.append(route.request.post_data)
        await asyncio.sleep(0.5)
        await route.continue_()

    await page.route(re.compile(r"/post$"), slow_server)
    await page.get_by_label("Say something").fill(body)

    await page.locator("#post-form").get_by_role("button", name="Submit").dblclick()

    await expect(page.locator("#posts article").first).to_contain_text(body)
    await expect(page.get_by_label("Say something")).to_have_value("")
    await expect(page.locator("#flashes").get_by_role("status")).to_have_count(1)
    assert len(sent) == 1, f"{len(sent)} requests sent"
    await expect(page.locator("#posts article", has_text=body)).to_have_count(1)
    await assert_not_reloaded(page)

    await page.unroute(re.compile(r"/post$"))
    await page.reload()
    await expect(page.locator("#posts article", has_text=body)).to_have_count(1)


async def test_the_form_waits_while_a_post_is_on_its_way(new_page):
    """Nothing typed while a post is being sent can be lost: the form is disabled until the answer
    (with a fresh form) is in, then takes the next post."""
    page, _ = await new_page(js=True)
    await sign_up(page, "quick")
    await page.goto("/index")
    await mark_page(page)
    first, second = unique("First thought"), unique("Second thought")

    async def slow_server(route):
        await asyncio.sleep(0.8)
        await route.continue_()

    await page.route(re.compile(r"/post$"), slow_server)
    text = page.get_by_label("Say something")
    await text.fill(first)
    await page.locator("#post-form").get_by_role("button", name="Submit").click()
    await expect(text).to_be_disabled()  # in flight: nothing can be typed into a form about to go
    await expect(page.locator("#post-form").get_by_role("button", name="Submit")).to_be_disabled()
    await expect(page.locator("#posts article").first).to_contain_text(first)
    await expect(text).to_be_enabled()
    await expect(text).to_have_value("")

    await text.fill(second)
    await page.locator("#post-form").get_by_role("button", name="Submit").click()
    await expect(page.locator("#posts article").first).to_contain_text(second)
    await expect(page.locator("#posts article", has_text=first)).to_have_count(1)
    await assert_not_reloaded(page)
