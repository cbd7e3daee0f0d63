"""Every navigation item is reachable on a phone, with and without JavaScript: the menu is a
<details> the browser opens itself; on a wide screen it simply shows."""
import re

import pytest
from playwright.async_api import expect

from .support import DESKTOP, PHONE, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.parametrize("js", [False, True])
async def test_the_phone_menu_opens_without_javascript(new_page, js):
    page, _ = await new_page(js=js, viewport=PHONE)
    await sign_up(page, "phone")
    await page.goto("/index")
    explore = page.get_by_role("link", name="Explore", exact=True)
    await expect(explore).to_be_hidden()  # folded away on a phone
    await page.get_by_label("Toggle navigation").click()
    for item in (page.get_by_role("link", name="Home", exact=True), explore,
                 page.get_by_role("searchbox", name="Search"), page.get_by_role("link", name="Profile"),
                 page.get_by_role("button", name="Log out"), page.get_by_role("button", name="Español")):
        await expect(item).to_be_visible()
    await explore.click()
    await expect(page).to_have_url(re.compile(r"/explore$"))


async def test_a_wide_screen_shows_the_menu_without_a_toggle(new_page):
    page, _ = await new_page(js=False, viewport=DESKTOP)
    await page.goto("/explore")
    await expect(page.get_by_label("Toggle navigation")).to_be_hidden()
    for name in ("Home", "Explore", "Log in", "Register"):
        await expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
