"""Translating a post in Chromium: the spinner, the translation swapped in under the post, "Show
original", a failure's message next to the button, and the same without JavaScript. The site runs
with TRANSLATOR=libretranslate against a LibreTranslate-speaking server on loopback."""
import re
import tempfile
from pathlib import Path

import pytest
from playwright.async_api import expect

from translate.support import ProviderServer, fake_translation

from .support import live_server, publish_quickly, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

SPANISH = "Hoy hace muy buen tiempo y voy a dar un largo paseo por el parque."


@pytest.fixture(scope="module")
def provider():
    server = ProviderServer("libretranslate").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def translating_server(provider):
    """A server of this module's own: translation needs settings the shared one does not have."""
    with tempfile.TemporaryDirectory(prefix="microblog-translate-") as workdir, pytest.MonkeyPatch.context() as env:
        env.setenv("TRANSLATOR", "libretranslate")
        env.setenv("TRANSLATOR_URL", provider.url)
        with live_server(Path(workdir)) as running:
            yield running


@pytest.fixture
def fresh_provider(provider):
    provider.status, provider.delay = 200, 0
    provider.requests.clear()
    return provider


async def spanish_post(new_page, server, js: bool):
    page, problems = await new_page(js=js, on=server)
    await sign_up(page, "reader")
    await publish_quickly(page, [SPANISH])
    await page.goto("/index")
    return page, problems, page.locator("article.post", has_text=SPANISH)


async def test_translate_then_show_original(new_page, translating_server, fresh_provider):
    fresh_provider.delay = 0.6  # long enough to see the spinner
    page, _, post = await spanish_post(new_page, translating_server, js=True)
    spinner = post.get_by_role("status")
    await expect(spinner).to_be_hidden()

    await post.get_by_role("button", name="Translate").click()
    await expect(spinner).to_be_visible()
    await expect(post).to_contain_text(fake_translation(SPANISH, "en"))
    await expect(post).to_contain_text("Translated from Spanish by LibreTranslate.")
    await expect(post.get_by_role("button", name="Translate")).to_have_count(0)
    await expect(page).to_have_url(re.compile(r"/index$"))  # swapped in place, no page change
    await expect(post.locator(".post-translation")).to_be_focused()  # the button it replaced had the focus

    await post.get_by_role("link", name="Show original").click()
    await expect(post.get_by_role("button", name="Translate")).to_be_focused()
    await expect(post).not_to_contain_text(fake_translation(SPANISH, "en"))
    await expect(post).to_contain_text(SPANISH)
    await expect(page).to_have_url(re.compile(r"/index$"))

    await post.get_by_role("button", name="Translate").click()  # again: kept, not asked again
    await expect(post).to_contain_text(fake_translation(SPANISH, "en"))
    assert len(fresh_provider.requests) == 1


async def test_a_failure_is_a_message_next_to_the_button(new_page, translating_server, fresh_provider):
    fresh_provider.status = 456
    page, problems, post = await spanish_post(new_page, translating_server, js=True)
    problems.allow_console_error(r"the server responded with a status of 503")
    await post.get_by_role("button", name="Translate").click()
    await expect(post.get_by_role("alert")).to_have_text(
        "Translation is not available at the moment. Please try again later.")
    await expect(post.get_by_role("button", name="Translate")).to_be_visible()
    assert "Traceback" not in translating_server.log.read_text()


async def test_translate_without_javascript(new_page, translating_server, fresh_provider):
    page, _, post = await spanish_post(new_page, translating_server, js=False)
    await post.get_by_role("button", name="Translate").click()
    await expect(page).to_have_url(re.compile(r"/post/\d+/translate$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Translation")
    shown = page.locator("article.post", has_text=SPANISH)
    await expect(shown).to_contain_text(fake_translation(SPANISH, "en"))
    await shown.get_by_role("link", name="Show original").click()
    await expect(page).to_have_url(re.compile(r"/index$"))  # back where the reader was
    await expect(page.locator("article.post", has_text=SPANISH).get_by_role("button", name="Translate")).to_be_visible()
