"""The sessions page in a real browser: ending another browser's session, with htmx and with
JavaScript off; that browser is logged out at its next request."""
import re

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, log_in, mark_page, sign_up
from .test_accessibility import axe_violations, describe

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


async def logged_out(page) -> None:
    await page.goto("/index")
    await expect(page).to_have_url(re.compile(r"/auth/login\?next="))


async def two_browsers(new_page, js: bool, **options):
    laptop, _ = await new_page(js=js, **options)
    nickname = await sign_up(laptop, "traveller")
    phone, _ = await new_page(js=False, user_agent=PHONE_UA)
    await log_in(phone, nickname)
    await laptop.goto("/edit_profile")
    await laptop.get_by_role("link", name="See where you are logged in").click()
    await expect(laptop).to_have_url(re.compile(r"/auth/sessions$"))
    await expect(laptop.locator("#sessions li")).to_have_count(2)
    await expect(laptop.locator("#sessions li", has_text="This browser")).to_have_count(1)
    return laptop, phone


async def test_ending_another_session_with_htmx(new_page):
    laptop, phone = await two_browsers(new_page, js=True)
    await mark_page(laptop)
    await laptop.get_by_role("button", name="End session Safari on iPhone").click()
    await expect(laptop.locator("#flashes")).to_contain_text("The session has been ended.")
    await expect(laptop.locator("#sessions li")).to_have_count(1)
    await expect(laptop.get_by_text("You are not logged in anywhere else.")).to_be_visible()
    await assert_not_reloaded(laptop)
    await logged_out(phone)


async def test_ending_all_other_sessions_without_javascript(new_page):
    laptop, phone = await two_browsers(new_page, js=False)
    await laptop.get_by_role("button", name="End all other sessions").click()
    await expect(laptop).to_have_url(re.compile(r"/auth/sessions$"))
    await expect(laptop.locator("#flashes")).to_contain_text("All your other sessions have been ended.")
    await expect(laptop.locator("#sessions li")).to_have_count(1)
    await logged_out(phone)
    await laptop.goto("/index")
    await expect(laptop).to_have_url(re.compile(r"/index$"))


async def test_the_sessions_page_has_no_serious_accessibility_violation(new_page):
    laptop, _phone = await two_browsers(new_page, js=True, bypass_csp=True)  # axe is injected
    await laptop.wait_for_load_state("networkidle")
    violations = await axe_violations(laptop)
    assert not violations, describe("sessions", laptop.url, violations)
