"""Writing and reading posts in the browser: a counter that counts as the server does, nothing
cut, a limit that is a setting, links that work, every post's own page, Delete that asks first
without JavaScript, and one message at a time."""
import re

import pytest
from playwright.async_api import expect

from microblog.posts.text import length

from .support import log_in, register, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

LIMIT = 140  # the shared server's POST_MAX_CHARS (tests/conftest.py); a new site has 500
REFUSED = r"the server responded with a status of 422"  # Chromium logs the deliberate refusal


async def test_the_counter_counts_as_the_server_does(new_page):
    page, _ = await new_page(js=True)
    await sign_up(page, "counter")
    await page.goto("/index")
    box, counter = page.get_by_label("Say something"), page.locator("#post-hint .post-counter")
    await expect(counter).to_have_text(f"Characters left: {LIMIT}")  # without JavaScript: "At most 140 characters."
    for text in ("héllo 🇪🇸 👍🏽 👩‍👩‍👧", "read https://example.org/" + "a" * 80 + " and (https://x.example/b).",
                 "e\u0301" * 30 + " " + "word " * 20):
        await box.fill(text)
        await expect(counter).to_have_text(f"Characters left: {LIMIT - length(text.strip())}")  # the server strips too
    await expect(counter).not_to_have_class("text-danger")
    await box.fill("x" * (LIMIT + 3))
    await expect(counter).to_have_text("Characters left: -3")
    await expect(counter).to_have_class("post-counter text-danger fw-semibold")


@pytest.mark.parametrize("js", [True, False])
async def test_too_long_is_refused_and_nothing_is_cut(new_page, js):
    page, problems = await new_page(js=js)
    problems.allow_console_error(REFUSED)
    await sign_up(page, "longwinded")
    await page.goto("/index")
    text = unique("a long thought") + " " + "more " * 60  # about 320 characters, pasted
    await page.get_by_label("Say something").fill(text)
    await page.locator("#post-form").get_by_role("button", name="Submit").click()
    await expect(page.get_by_text(f"Posts are at most {LIMIT} characters.")).to_be_visible()
    await expect(page.get_by_label("Say something")).to_have_value(text.strip())  # all of it, still there
    await expect(page.locator("#posts article")).to_have_count(0)
    if not js:
        await expect(page.locator("#post-hint")).to_have_text(f"At most {LIMIT} characters.")


async def test_the_default_limit_takes_300_characters(default_server, new_page):  # pages close first
    page, _ = await new_page(js=True, on=default_server)
    await sign_up(page, "roomy")
    await page.goto("/index")
    text = unique("room to write") + " " + "x" * (300 - len(unique("room to write")) - 1)
    await page.get_by_label("Say something").fill(text)
    await expect(page.locator("#post-hint .post-counter")).to_have_text(f"Characters left: {500 - length(text)}")
    await page.locator("#post-form").get_by_role("button", name="Submit").click()
    await expect(page.locator("#posts article").first).to_contain_text(text)


@pytest.mark.parametrize("js", [True, False])
async def test_links_in_posts_and_every_posts_own_page(new_page, js):
    page, _ = await new_page(js=js)
    nickname = await sign_up(page, "linker")
    await page.goto("/index")
    word = unique("read")
    await page.get_by_label("Say something").fill(f"{word} https://example.org/article.")
    await page.locator("#post-form").get_by_role("button", name="Submit").click()
    card = page.locator("#posts article", has_text=word)
    link = card.get_by_role("link", name="example.org/article")
    await expect(link).to_have_attribute("href", "https://example.org/article")
    await expect(link).to_have_attribute("rel", "nofollow noopener noreferrer ugc")

    await card.locator("time").click()  # the time leads to the post's own page
    await expect(page).to_have_url(re.compile(r"/post/\d+$"))
    await expect(page.locator("article")).to_contain_text(f"{word} example.org/article.")
    await expect(page.locator(".post-details")).to_contain_text("Published")
    await expect(page.locator("article").get_by_role("link", name=nickname)).to_have_count(1)


async def test_delete_without_javascript_asks_first(new_page):
    page, _ = await new_page(js=False)
    nickname = await sign_up(page, "deleter")
    await page.goto("/index")
    body = unique("soon gone")
    await page.get_by_label("Say something").fill(body)
    await page.get_by_role("button", name="Submit").click()
    await page.goto(f"/user/{nickname}")
    await page.locator("article", has_text=body).get_by_role("button", name="Delete post").click()
    await expect(page.get_by_text("Do you want to delete this post?")).to_be_visible()  # asked, nothing gone yet
    await page.get_by_role("button", name="Delete", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"/user/{nickname}$"))
    await expect(page.locator("#flashes")).to_contain_text("Your post has been deleted.")
    await expect(page.locator("article", has_text=body)).to_have_count(0)


async def test_a_new_message_replaces_the_old_one(new_page):
    page, problems = await new_page(js=True)
    problems.allow_console_error(REFUSED)
    await sign_up(page, "messenger")
    await page.goto("/index")
    await page.get_by_label("Say something").fill(unique("fine"))
    await page.locator("#post-form").get_by_role("button", name="Submit").click()
    await expect(page.locator("#flashes")).to_contain_text("Your post is now live!")
    await page.get_by_label("Say something").fill("x" * (LIMIT + 1))
    await page.locator("#post-form").get_by_role("button", name="Submit").click()
    await expect(page.get_by_text(f"Posts are at most {LIMIT} characters.")).to_be_visible()
    await expect(page.locator("#flashes")).not_to_contain_text("Your post is now live!")


async def test_a_first_log_in_says_welcome_and_later_ones_welcome_back(new_page):
    page, _ = await new_page(js=False)
    nickname = unique("newcomer")
    await register(page, nickname)
    await log_in(page, nickname)
    await expect(page.locator("#flashes")).to_have_text(f"Welcome, {nickname}!")
    await page.get_by_role("button", name="Log out").filter(visible=True).click()
    await log_in(page, nickname)
    await expect(page.locator("#flashes")).to_have_text(f"Welcome back, {nickname}!")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
async def test_a_success_message_can_be_dismissed_where_a_button_can_do_it(new_page, js):
    page, _ = await new_page(js=js)
    await sign_up(page, "dismisser")
    await page.get_by_label("Say something").fill(unique("fine"))
    await page.locator("#post-form").get_by_role("button", name="Submit").click()
    message = page.locator("#flashes .alert", has_text="Your post is now live!")
    await expect(message).to_be_visible()
    close = message.get_by_role("button", name="Close")
    if not js:  # no button that would do nothing: the message goes with the next page
        await expect(close).to_be_hidden()
        await page.goto("/index")
        await expect(message).to_have_count(0)
        return
    await close.click()
    await expect(message).to_have_count(0)
