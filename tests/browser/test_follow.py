"""Following and unfollowing from a profile page, with htmx and with JavaScript off."""
import re

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, mark_page, register, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def someone_to_follow(new_page) -> str:
    """Another account, registered in a browser of its own."""
    page, _ = await new_page(js=False)
    nickname = unique("star")
    await register(page, nickname)
    return nickname


def follow_box(page):
    return page.locator(".follow-box")


async def test_follow_and_unfollow_with_htmx(new_page):
    star = await someone_to_follow(new_page)
    page, _ = await new_page(js=True)
    await sign_up(page, "fan")
    await page.goto(f"/user/{star}")
    await mark_page(page)
    box = follow_box(page)
    await expect(box.locator(".follower-count")).to_have_text("0 followers")

    await box.get_by_role("button", name=f"Follow {star}", exact=True).click()
    await expect(box.get_by_role("button")).to_have_text(f"Unfollow {star}")
    await expect(box.locator(".follower-count")).to_have_text("1 follower")
    await expect(page.locator("#flashes")).to_contain_text(f"You are now following {star}!")

    await box.get_by_role("button", name=f"Unfollow {star}", exact=True).click()
    await expect(box.get_by_role("button")).to_have_text(f"Follow {star}")
    await expect(box.locator(".follower-count")).to_have_text("0 followers")
    await expect(page.locator("#flashes")).to_have_text(f"You are not following {star} anymore.")

    await assert_not_reloaded(page)
    await expect(page).to_have_url(re.compile(rf"/user/{star}$"))


async def test_follow_and_unfollow_without_javascript(new_page):
    star = await someone_to_follow(new_page)
    page, _ = await new_page(js=False)
    await sign_up(page, "fan")
    await page.goto(f"/user/{star}")
    box = follow_box(page)
    await expect(box.locator(".follower-count")).to_have_text("0 followers")

    await box.get_by_role("button", name=f"Follow {star}", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"/user/{star}$"))
    await expect(page.locator("#flashes")).to_contain_text(f"You are now following {star}!")
    await expect(box.get_by_role("button")).to_have_text(f"Unfollow {star}")
    await expect(box.locator(".follower-count")).to_have_text("1 follower")

    await box.get_by_role("button", name=f"Unfollow {star}", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"/user/{star}$"))
    await expect(page.locator("#flashes")).to_contain_text(f"You are not following {star} anymore.")
    await expect(box.get_by_role("button")).to_have_text(f"Follow {star}")
    await expect(box.locator(".follower-count")).to_have_text("0 followers")
