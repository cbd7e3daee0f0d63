"""Keyboard only: posting and following with Tab and Enter, where focus goes after an htmx
swap, that focus is always visible, and that new content is announced (#flashes is a polite
live region that htmx writes into, never replaces)."""
import asyncio
import re

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, mark_page, publish_quickly, register, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

# True when the focused element shows a focus indicator: an outline, or a box-shadow that is not
# fully transparent (Bootstrap draws focus rings as box-shadows, fading them in).
FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none" && !/^rgba\\([^)]*,\\s*0\\)/.test(style.boxShadow);
  return outline || shadow;
}"""

DESCRIBE_FOCUS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return `${el.outerHTML.slice(0, 120)} outline=${style.outline} box-shadow=${style.boxShadow}`;
}"""


async def focused_is(page, locator) -> bool:
    return await locator.evaluate("el => el === document.activeElement")


async def assert_focus_visible(page) -> None:
    # Polled from here: wait_for_function polls with eval() in the page, which the CSP refuses.
    for _ in range(40):
        if await page.evaluate(FOCUS_SHOWN):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no visible focus indicator on " + await page.evaluate(DESCRIBE_FOCUS))


async def tab_to(page, locator, limit: int = 40) -> None:
    """Press Tab until `locator` has focus, checking every stop on the way shows its focus."""
    await expect(locator).to_be_visible()
    for _ in range(limit):
        await page.keyboard.press("Tab")
        await assert_focus_visible(page)
        if await focused_is(page, locator):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {locator}")


async def expect_focus_on(page, locator) -> None:
    await expect(locator).to_be_focused()
    await assert_focus_visible(page)


async def test_keyboard_only_post_then_focus_on_the_new_post(new_page):
    page, _ = await new_page(js=True)
    await sign_up(page, "typist")
    await page.goto("/index")
    await mark_page(page)
    body = unique("Typed without a mouse")

    textarea = page.get_by_label("Say something")
    await tab_to(page, textarea)
    await page.keyboard.type(body)
    await tab_to(page, page.locator("#post-form").get_by_role("button", name="Submit"), limit=1)
    await page.keyboard.press("Enter")

    new_post = page.locator("#posts article").first
    await expect(new_post).to_contain_text(body)
    await expect_focus_on(page, new_post)  # the server marked it autofocus; htmx focused it
    assert await page.evaluate("document.activeElement.tagName") == "ARTICLE"
    await expect(page.get_by_label("Say something")).to_have_value("")  # a fresh form for the next one
    await assert_not_reloaded(page)

    # From the new post, the keyboard carries on into it (its author link), not back to the top.
    await page.keyboard.press("Tab")
    await expect(page.locator(":focus")).to_have_attribute("href", re.compile(r"/user/"))
    assert await page.evaluate("!!document.activeElement.closest('#posts')")


async def test_keyboard_only_follow_and_unfollow_keep_focus_on_the_button(new_page):
    other, _ = await new_page(js=False)
    star = unique("star")
    await register(other, star)
    page, _ = await new_page(js=True)
    await sign_up(page, "fan")
    await page.goto(f"/user/{star}")
    await mark_page(page)
    box = page.locator(".follow-box")

    await tab_to(page, box.get_by_role("button", name=f"Follow {star}", exact=True))
    await page.keyboard.press("Enter")
    await expect(page.locator("#flashes").get_by_role("status")).to_have_text(f"You are now following {star}!")
    await expect_focus_on(page, box.get_by_role("button", name=f"Unfollow {star}", exact=True))

    await page.keyboard.press("Enter")
    await expect(page.locator("#flashes").get_by_role("status")).to_have_text(f"You are not following {star} anymore.")
    await expect_focus_on(page, box.get_by_role("button", name=f"Follow {star}", exact=True))
    await expect(box.locator(".follower-count")).to_have_text("0 followers")
    await assert_not_reloaded(page)


async def test_skip_link_is_the_first_stop_and_moves_focus_to_the_content(new_page):
    page, _ = await new_page(js=True)
    await sign_up(page, "skipper")
    await page.goto("/explore")
    skip = page.get_by_role("link", name="Skip to content")

    await page.keyboard.press("Tab")
    await expect_focus_on(page, skip)
    await expect(skip).to_be_in_viewport()  # shown while focused, though visually hidden otherwise
    await page.keyboard.press("Enter")
    await expect(page.locator("main#content")).to_be_focused()


@pytest.mark.parametrize("js", [True, False], ids=["htmx", "no-js"])
async def test_flash_area_is_a_polite_live_region(new_page, js):
    page, _ = await new_page(js=js)
    await page.goto("/auth/login")
    await expect(page.locator("#flashes")).to_have_attribute("aria-live", "polite")
    await sign_up(page, "listener")
    for url in ["/index", "/explore", "/edit_profile"]:
        await page.goto(url)
        await expect(page.locator("#flashes")).to_have_attribute("aria-live", "polite")


async def test_htmx_messages_go_into_the_existing_live_region(new_page):
    """A live region only announces changes to itself: htmx must fill #flashes, not replace it."""
    page, _ = await new_page(js=True)
    await sign_up(page, "announcer")
    doomed = unique("Delete me")
    await publish_quickly(page, [doomed])
    await page.goto("/index")
    await page.evaluate("document.getElementById('flashes').__original = true")
    page.on("dialog", lambda dialog: dialog.accept())

    await page.locator("#posts article", has_text=doomed).get_by_role("button", name="Delete").click()

    flashes = page.locator("#flashes")
    await expect(flashes.get_by_role("status")).to_contain_text("Your post has been deleted.")
    assert await flashes.evaluate("el => el.__original === true"), "#flashes was replaced"
    await expect(flashes).to_have_attribute("aria-live", "polite")


async def test_refused_post_puts_focus_back_in_the_text(new_page):
    """A 422 re-renders the form; its textarea is autofocus, so the keyboard is back in the text."""
    page, problems = await new_page(js=True)
    problems.allow_console_error(r"the server responded with a status of 422")
    await sign_up(page, "hasty")
    await page.goto("/index")
    await mark_page(page)
    submit = page.locator("#post-form").get_by_role("button", name="Submit")

    await tab_to(page, submit)
    await page.keyboard.press("Enter")

    await expect(page.locator("#post-errors")).to_have_text("Please write something first.")
    await expect_focus_on(page, page.get_by_label("Say something"))
    await page.keyboard.type("Now with words")  # typing goes straight into the post
    await expect(page.get_by_label("Say something")).to_have_value("Now with words")
    await assert_not_reloaded(page)


async def test_deleting_a_post_moves_focus_to_its_neighbour(new_page):
    """After a post is deleted with htmx, focus is on the next post, else the previous one, else
    the list's heading; never lost on <body>."""
    page, _ = await new_page(js=True)
    await sign_up(page, "tidy")
    oldest, middle, newest = unique("Oldest"), unique("Middle"), unique("Newest")
    await publish_quickly(page, [oldest, middle, newest])  # the timeline shows newest first
    await page.goto("/index")
    await mark_page(page)
    page.on("dialog", lambda dialog: dialog.accept())

    def post(body):
        return page.locator("#posts article", has_text=body)

    async def delete_with_keyboard(body):
        await tab_to(page, post(body).get_by_role("button", name="Delete"), limit=60)
        await page.keyboard.press("Enter")
        await expect(post(body)).to_have_count(0)

    await delete_with_keyboard(middle)
    await expect_focus_on(page, post(oldest))  # the next one down

    await delete_with_keyboard(oldest)
    await expect_focus_on(page, post(newest))  # none below: the one above

    await delete_with_keyboard(newest)
    await expect_focus_on(page, page.get_by_role("heading", name="Your timeline"))  # none left
    await expect(page.locator("#flashes").get_by_role("status")).to_contain_text("Your post has been deleted.")
    await assert_not_reloaded(page)
