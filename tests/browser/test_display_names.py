"""A display name set after posting shows on every card of the person's, old and new: post cards
are kept rendered per card key (posts/cards.py), so this checks that a new name makes new cards
rather than serving the ones kept under the old."""
import pytest
from playwright.async_api import expect

from .support import publish_quickly, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

NAME = "Zoë Ålander 🌻"


def name_on_card(page, body: str):
    """The author's name as the card with `body` shows it (the first name in the card)."""
    return page.locator("#posts article", has_text=body).locator("bdi").first


@pytest.mark.parametrize("js", [True, False], ids=["htmx", "no-js"])
async def test_display_names_show_on_old_and_new_cards(new_page, js):
    page, _ = await new_page(js=js)
    me = await sign_up(page, "named")
    lists = ["/index", "/explore", f"/user/{me}"]
    old = unique("Written before I had a display name")
    await publish_quickly(page, [old])
    for url in lists:  # each list renders the card, and keeps it, under the nickname
        await page.goto(url)
        await expect(name_on_card(page, old)).to_have_text(me)

    await page.goto(f"/user/{me}")
    await page.get_by_role("link", name="Edit your profile").click()
    await page.get_by_label("Display name").fill(NAME)
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#flashes")).to_contain_text("Your changes have been saved.")

    new = unique("Written with my display name")
    await page.goto("/index")
    await page.get_by_label("Say something").fill(new)
    await page.get_by_role("button", name="Submit").click()
    await expect(page.locator("#flashes")).to_contain_text("Your post is now live!")
    await expect(name_on_card(page, new)).to_have_text(NAME)  # the card as publishing answers it

    for url in lists:
        await page.goto(url)
        for body in (old, new):
            await expect(name_on_card(page, body)).to_have_text(NAME)
            await expect(page.locator("#posts article", has_text=body)).to_contain_text(f"@{me}")
