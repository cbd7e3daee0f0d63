"""A person's card under their name in a post: opened by resting the pointer on the name or the
picture, or by focusing the name; fetched once; closed by leaving or by Escape; its Follow works in
place. Without JavaScript the name is a link to the profile."""
import re

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, mark_page, publish_quickly, sign_up, unique
from .test_accessibility import axe_violations, describe

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def someone_who_posted(new_page) -> tuple[str, str]:
    """Another account with one post (registered and posting in a browser of its own): (nickname, text)."""
    page, _ = await new_page(js=False)
    nickname = await sign_up(page, "star")
    text = unique("shining")
    await publish_quickly(page, [text])
    return nickname, text


def post_with(page, text: str):
    return page.locator("article.post", has_text=text)


def name_link(post):
    return post.locator("a[aria-describedby]")


def card_of(post):
    return post.locator(".person-card")


async def test_the_card_opens_by_pointer_and_keyboard_and_its_follow_works_in_place(new_page):
    star, text = await someone_who_posted(new_page)
    page, _ = await new_page(js=True)
    await sign_up(page, "fan")
    fetched = []
    page.on("request", lambda request: "/card" in request.url and fetched.append(request.url))
    await page.goto("/explore")
    await mark_page(page)
    post = post_with(page, text)
    name, card = name_link(post), card_of(post)
    await expect(card).to_be_hidden()

    # The pointer rests on the name: the card comes after a moment, and goes when it leaves.
    await name.hover()
    await expect(card).to_be_visible()
    await expect(name).to_have_attribute("aria-expanded", "true")
    await expect(card).to_contain_text(f"@{star}")
    await expect(card).to_contain_text("0 followers")
    await expect(card).to_contain_text("Following 0 users")
    await expect(card).to_contain_text("1 post")
    await page.locator("h1").hover()
    await expect(card).to_be_hidden()
    await expect(name).to_have_attribute("aria-expanded", "false")

    # The picture opens it too, from what was fetched the first time.
    await post.locator("a[data-card][aria-hidden=true]").hover()
    await expect(card).to_be_visible()
    await page.locator("h1").hover()
    await expect(card).to_be_hidden()
    assert fetched == [f"{page.url.rsplit('/', 1)[0]}/user/{star}/card"], fetched

    # Focus on the name opens it; Escape closes it and focus stays on the name.
    await name.focus()
    await expect(card).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(card).to_be_hidden()
    await expect(name).to_be_focused()

    # Focus again, then Tab into the card, to its Follow button, which follows in place.
    await page.locator(".post-time").first.focus()
    await name.focus()
    await expect(card).to_be_visible()
    follow = card.get_by_role("button", name=f"Follow {star}", exact=True)
    for _ in range(3):
        await page.keyboard.press("Tab")
        if await follow.evaluate("el => el === document.activeElement"):
            break
    await expect(follow).to_be_focused()
    await page.keyboard.press("Enter")
    unfollow = card.get_by_role("button", name=f"Unfollow {star}", exact=True)
    await expect(unfollow).to_be_visible()
    await expect(unfollow).to_be_focused()
    await expect(card.locator(".follower-count")).to_have_text("1 follower")
    await expect(page.locator("#flashes")).to_contain_text(f"You are now following {star}!")

    # Escape from inside the card: closed, focus back on the name.
    await page.keyboard.press("Escape")
    await expect(card).to_be_hidden()
    await expect(name).to_be_focused()
    await assert_not_reloaded(page)
    assert len(fetched) == 1, fetched

    await page.goto(f"/user/{star}")
    box = page.locator(".follow-box")
    await expect(box.locator(".follower-count")).to_have_text("1 follower")
    await expect(box.get_by_role("button")).to_have_text(f"Unfollow {star}")


async def test_an_open_card_passes_axe(new_page):
    star, text = await someone_who_posted(new_page)
    page, _ = await new_page(js=True, bypass_csp=True)  # axe is injected by the test
    await sign_up(page, "reader")
    await page.goto("/explore")
    post = post_with(page, text)
    await name_link(post).hover()
    await expect(card_of(post)).to_contain_text("Follow")
    violations = await axe_violations(page)
    assert not violations, describe("explore, a card open", page.url, violations)


async def test_without_javascript_the_name_leads_to_the_profile(new_page):
    star, text = await someone_who_posted(new_page)
    page, _ = await new_page(js=False)
    await page.goto("/explore")
    post = post_with(page, text)
    await expect(card_of(post)).to_be_hidden()
    await name_link(post).click()
    await expect(page).to_have_url(re.compile(rf"/user/{star}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(star)
