"""Writing, validating and deleting posts, with htmx and with JavaScript off."""
import re

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, mark_page, publish_quickly, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

# Chromium logs every 4xx answer as a console error; the 422 of a refused form is deliberate.
EXPECTED_422 = r"Failed to load resource: the server responded with a status of 422"
TOO_LONG = ("This post is far too long for microblog, because it keeps going and going well past "
            "the limit of one hundred and forty characters. Oh dear!!!")
assert len(TOO_LONG) == 141


def post_form(page):
    return page.locator("#post-form")


def textarea(page):
    return page.get_by_label("Say something")


def errors_under_post_field(page):
    return page.locator("#post-errors")


async def test_write_post_with_htmx(new_page):
    page, _ = await new_page(js=True)
    await sign_up(page, "writer")
    await mark_page(page)
    body = unique("Hello from htmx")

    await textarea(page).fill(body)
    await page.get_by_role("button", name="Submit").click()

    first = page.locator("#posts article").first
    await expect(first).to_contain_text(body)
    await expect(textarea(page)).to_have_value("")
    await expect(page.locator("#flashes")).to_contain_text("Your post is now live!")
    await expect(page).to_have_url(re.compile(r"/index$"))
    await assert_not_reloaded(page)
    await expect(page.locator("#posts article", has_text=body)).to_have_count(1)


async def test_write_post_without_javascript(new_page):
    page, _ = await new_page(js=False)
    await sign_up(page, "writer")
    body = unique("Hello without JavaScript")

    await textarea(page).fill(body)
    await page.get_by_role("button", name="Submit").click()

    await expect(page).to_have_url(re.compile(r"/index$"))
    await expect(page.locator("#flashes")).to_contain_text("Your post is now live!")
    await expect(page.locator("#posts article").first).to_contain_text(body)
    await expect(textarea(page)).to_have_value("")


async def test_post_validation_with_htmx(new_page):
    page, problems = await new_page(js=True)
    problems.allow_console_error(EXPECTED_422)
    await sign_up(page, "validator")
    await mark_page(page)

    await page.get_by_role("button", name="Submit").click()
    await expect(errors_under_post_field(page)).to_have_text("Please write something first.")
    await expect(errors_under_post_field(page)).to_be_visible()
    await expect(textarea(page)).to_have_attribute("aria-invalid", "true")

    # The browser would stop typing at maxlength; a user can still send more (old browser, curl).
    await textarea(page).evaluate("el => el.removeAttribute('maxlength')")
    await textarea(page).fill(TOO_LONG)
    await page.get_by_role("button", name="Submit").click()
    await expect(errors_under_post_field(page)).to_have_text("Posts are at most 140 characters.")
    await expect(textarea(page)).to_have_value(TOO_LONG)

    await assert_not_reloaded(page)
    await expect(post_form(page)).to_have_count(1)  # swapped in place, not nested
    await expect(page.locator("#posts article")).to_have_count(0)


async def test_post_validation_without_javascript(new_page):
    page, problems = await new_page(js=False)
    problems.allow_console_error(EXPECTED_422)
    await sign_up(page, "validator")

    await page.get_by_role("button", name="Submit").click()
    await expect(errors_under_post_field(page)).to_have_text("Please write something first.")
    await expect(errors_under_post_field(page)).to_be_visible()

    await textarea(page).evaluate("el => el.removeAttribute('maxlength')")
    await textarea(page).fill(TOO_LONG)
    await page.get_by_role("button", name="Submit").click()
    await expect(errors_under_post_field(page)).to_have_text("Posts are at most 140 characters.")
    await expect(textarea(page)).to_have_value(TOO_LONG)
    await expect(page.locator("#flashes")).not_to_contain_text("Your post is now live!")
    await expect(page.locator("#posts article")).to_have_count(0)


async def test_delete_own_post_with_htmx(new_page):
    page, _ = await new_page(js=True)
    await sign_up(page, "deleter")
    keep, doomed = unique("Keep me"), unique("Delete me")
    await publish_quickly(page, [keep, doomed])
    await page.reload()
    await mark_page(page)
    dialogs = []

    async def accept(dialog):
        dialogs.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    article = page.locator("#posts article", has_text=doomed)
    await article.get_by_role("button", name="Delete").click()

    await expect(article).to_have_count(0)
    await expect(page.locator("#posts article", has_text=keep)).to_have_count(1)
    await expect(page.locator("#flashes")).to_contain_text("Your post has been deleted.")
    assert dialogs == ["Delete this post?"]
    await assert_not_reloaded(page)


async def test_delete_own_post_without_javascript(new_page):
    page, _ = await new_page(js=False)
    await sign_up(page, "deleter")
    keep, doomed = unique("Keep me"), unique("Delete me")
    await publish_quickly(page, [keep, doomed])
    await page.reload()

    article = page.locator("#posts article", has_text=doomed)
    await article.get_by_role("button", name="Delete").click()
    await expect(page.get_by_text("Do you want to delete this post?")).to_be_visible()  # it asks first
    await page.get_by_role("button", name="Delete", exact=True).click()

    await expect(page).to_have_url(re.compile(r"/index$"))
    await expect(page.locator("#flashes")).to_contain_text("Your post has been deleted.")
    await expect(article).to_have_count(0)
    await expect(page.locator("#posts article", has_text=keep)).to_have_count(1)
