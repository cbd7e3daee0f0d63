"""Avatars are drawn by the site: every picture on a page loads with no network but the site's
own (no Gravatar, no internet: a Pi on a home network)."""
import asyncio

import pytest
from playwright.async_api import expect

from .support import publish_quickly, register, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def offline(page, site: str) -> list[str]:
    """Refuse every request that is not for `site`; the refused URLs, for the test to check."""
    refused = []

    async def _only_the_site(route):
        if route.request.url.startswith(site + "/"):
            await route.fallback()
        else:
            refused.append(route.request.url)
            await route.abort("internetdisconnected")

    # Registered last, so it runs before the page watcher's Gravatar stand-in.
    await page.context.route("**/*", _only_the_site)
    return refused


async def loaded_images(page) -> list[dict]:
    """Every <img> of the page once all are loaded (src, naturalWidth), read in one go: a card
    opened under a resting pointer can add one meanwhile."""
    await expect(page.locator("img").first).to_be_attached()
    # Polled from here: wait_for_function polls with eval() in the page, which the CSP refuses.
    for _ in range(200):
        images = await page.evaluate("[...document.images].map((image) => "
                                     "({src: image.src, complete: image.complete, width: image.naturalWidth}))")
        if all(image["complete"] for image in images):
            return images
        await asyncio.sleep(0.05)
    raise AssertionError(f"images still loading: {images}")


async def broken_images(page) -> list[str]:
    """Every <img> of the page once loaded; those the browser could not draw."""
    return [image["src"] for image in await loaded_images(page) if not image["width"] > 0]


async def test_avatars_load_from_the_site_alone(new_page, server):
    other, _ = await new_page(js=False)
    star = unique("star")
    await register(other, star)

    page, _ = await new_page(js=True)
    refused = await offline(page, server.url)
    fan = await sign_up(page, "fan")
    await publish_quickly(page, [unique("with a face")])

    for path in (f"/user/{fan}", "/explore", f"/user/{star}"):
        await page.goto(path)
        images = await loaded_images(page)
        sources = [image["src"] for image in images]
        assert sources and all(source.startswith(server.url + "/avatar/") for source in sources), sources
        assert all(image["width"] > 0 for image in images), (path, images)

    # Following (htmx), then the list of the followed, with its small avatars.
    await page.get_by_role("button", name=f"Follow {star}", exact=True).click()
    await expect(page.get_by_role("button", name=f"Unfollow {star}", exact=True)).to_be_visible()
    await page.goto(f"/user/{fan}/following")
    await expect(page.get_by_role("link", name=star)).to_be_visible()
    assert not await broken_images(page)
    assert not refused, f"requests beyond the site: {refused}"


async def test_each_person_has_their_own_picture(new_page, server):
    page, _ = await new_page(js=False)
    refused = await offline(page, server.url)
    first = await sign_up(page, "face")
    await page.goto(f"/user/{first}")
    mine = await page.get_by_role("img", name=f"Avatar of {first}").get_attribute("src")
    other, _ = await new_page(js=False)
    second = await sign_up(other, "face")
    await page.goto(f"/user/{second}")
    theirs = await page.get_by_role("img", name=f"Avatar of {second}").get_attribute("src")
    assert mine != theirs
    pictures = [await (await page.request.get(src)).body() for src in (mine, theirs)]
    assert pictures[0] != pictures[1] and all(p.startswith(b"<svg") for p in pictures)
    assert not await broken_images(page)
    assert not refused, f"requests beyond the site: {refused}"
