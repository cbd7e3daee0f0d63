"""Dark mode: the site follows the browser's colours until a person chooses light or dark on the
Appearance page (saved on their account; in a cookie for visitors), with or without JavaScript."""
import pytest
from playwright.async_api import expect

from .support import PHONE, log_in, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

DARK_BACKGROUND, LIGHT_BACKGROUND = "rgb(33, 37, 41)", "rgb(255, 255, 255)"  # Bootstrap's body colours


async def background(page) -> str:
    await page.wait_for_load_state()  # the stylesheets are in (a heading can show before)
    return await page.evaluate("getComputedStyle(document.body).backgroundColor")


async def choose(page, label: str) -> None:
    """Through the navigation bar's link, as a person would."""
    await page.wait_for_load_state()  # the stylesheets are in: the phone's toggle is shown or not
    toggle = page.locator("details.navbar-menu > summary")
    if await toggle.is_visible():  # a phone
        await toggle.click()
    await page.get_by_role("link", name="Appearance").filter(visible=True).click()
    await page.get_by_label(label).check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#flashes")).to_contain_text("Appearance saved.")


@pytest.mark.parametrize("scheme, colour", [("dark", DARK_BACKGROUND), ("light", LIGHT_BACKGROUND)])
async def test_the_site_follows_the_browsers_colours(new_page, scheme, colour):
    page, _ = await new_page(js=False, color_scheme=scheme)
    await page.goto("/explore")
    assert await background(page) == colour
    await expect(page.get_by_label("Automatic: as your device is set")).to_have_count(0)  # nothing asked of anyone


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
async def test_a_visitor_chooses_light_in_a_dark_browser_and_it_stays(new_page, js):
    page, _ = await new_page(js=js, color_scheme="dark", viewport=PHONE)
    await page.goto("/auth/login")
    assert await background(page) == DARK_BACKGROUND
    await choose(page, "Light")
    assert await background(page) == LIGHT_BACKGROUND
    await page.goto("/explore")
    assert await background(page) == LIGHT_BACKGROUND
    await choose(page, "Automatic: as your device is set")
    assert await background(page) == DARK_BACKGROUND


async def test_a_persons_choice_follows_them_to_another_browser(new_page):
    page, _ = await new_page(js=True)
    nickname = await sign_up(page, "dark")
    await choose(page, "Dark")
    assert await background(page) == DARK_BACKGROUND
    await expect(page.get_by_label("Dark")).to_be_checked()

    elsewhere, _ = await new_page(js=True, color_scheme="light")  # another browser, light
    await elsewhere.goto("/auth/login")
    assert await background(elsewhere) == LIGHT_BACKGROUND
    await log_in(elsewhere, nickname)
    assert await background(elsewhere) == DARK_BACKGROUND
