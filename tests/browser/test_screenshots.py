"""Screenshots of the main pages on a phone and on a desktop, into test-artifacts/screenshots/.

They are for people to look at; the test only checks the pages render cleanly (the fixture
fails it on any console error or CSP violation) and that nothing overflows sideways.
"""

import pytest
from playwright.async_api import expect

from .support import DESKTOP, PHONE, publish_quickly, register, screenshot, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def assert_no_sideways_scroll(page) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"


@pytest.mark.parametrize("device, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
async def test_screenshots(new_page, device, viewport):
    other, _ = await new_page(js=False)
    friend = unique("friend")
    await register(other, friend)

    page, _ = await new_page(js=True, viewport=viewport)
    await page.goto("/auth/login")
    await expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    await assert_no_sideways_scroll(page)
    await screenshot(page, f"{device}-login")

    me = await sign_up(page, "shots")
    await page.goto(f"/user/{friend}")
    await page.get_by_role("button", name=f"Follow {friend}", exact=True).click()
    await expect(page.get_by_role("button", name=f"Unfollow {friend}", exact=True)).to_be_visible()
    await publish_quickly(page, [
        "Good morning! Trying out microblog on my phone.",
        "A longer post to see how text wraps: " + "wrapping words " * 6,
        "Averyveryverylongwordwithoutanyspacesthatmustnotbreakthelayoutofthepageonsmallscreens",
    ])

    for name, url in [("timeline", "/index"), ("explore", "/explore"), ("profile", f"/user/{me}")]:
        await page.goto(url)
        await expect(page.locator("#posts article").first).to_be_visible()
        await assert_no_sideways_scroll(page)
        await screenshot(page, f"{device}-{name}")

    await page.goto("/index")  # a person's card, open under the name in a post
    await page.locator("#posts article a[aria-describedby]").first.hover()
    await expect(page.locator(".person-card.open").first).to_contain_text(f"@{me}")
    await assert_no_sideways_scroll(page)
    await screenshot(page, f"{device}-card")

    await page.goto(f"/user/{friend}")  # someone else's profile: the follow box, no posts
    await expect(page.locator(".follow-box")).to_contain_text("1 follower")
    await screenshot(page, f"{device}-profile-other")

    if device == "phone":  # the collapsed navbar opens (a <details>: no script needed)
        await page.get_by_label("Toggle navigation").click()
        await expect(page.locator("details.navbar-menu")).to_have_attribute("open", "")  # opened
        await expect(page.get_by_role("button", name="Log out")).to_be_visible()
        await screenshot(page, "phone-menu")
