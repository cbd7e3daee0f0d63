"""When a post cannot be translated: the provider fails, is slow, is out of quota, is not set up,
or the reader has asked for too many translations this hour. Always a short message next to the
button (htmx) or on the post's page (no JS), never a 500, and nothing kept."""
import logging

import pytest
from sqlalchemy import func, select

from conftest import make_post, post, text_of
from helpers import alice_client, assert_varies, visible  # noqa: F401 (fixture)
from htmltree import parse
from microblog.translate import PostTranslation, TranslationAllowance

from .conftest import SPANISH
from .support import fake_translation

FAILURES = [
    (403, 503, "Translation is not available at the moment. Please try again later."),
    (456, 503, "Translation is not available at the moment. Please try again later."),
    (429, 503, "The translation service is busy. Please try again in a minute."),
    (500, 502, "The translation service could not translate this post. Please try again later."),
]


async def kept(db) -> int:
    return await db.scalar(select(func.count()).select_from(PostTranslation))


@pytest.mark.parametrize("provider_status, status, message", FAILURES)
async def test_provider_errors_with_htmx(alice_client, spanish_post, provider, db, caplog,
                                         provider_status, status, message):
    provider.status = provider_status
    with caplog.at_level(logging.WARNING, logger="microblog.translate"):
        response = await post(alice_client, f"/post/{spanish_post.id}/translate", htmx=True)
    assert response.status_code == status
    fragment = await text_of(response)
    assert parse(fragment).find("p", data_message="").text == message  # what static/app.js shows
    assert f"answered {provider_status}" in caplog.text
    assert await kept(db) == 0
    assert await db.scalar(select(TranslationAllowance.used)) == 0  # a failure is not counted


@pytest.mark.parametrize("provider_status, status, message", FAILURES[:1])
async def test_provider_errors_without_javascript(alice_client, spanish_post, provider, db,
                                                  provider_status, status, message):
    provider.status = provider_status
    response = await post(alice_client, f"/post/{spanish_post.id}/translate")
    assert response.status_code == status
    assert_varies(response)
    page = await text_of(response)
    assert [a.text.strip() for a in parse(page).find_all(role="alert")] == [message]
    assert SPANISH in visible(page)  # the post is still there, with its Translate button
    assert await kept(db) == 0


@pytest.mark.settings(TRANSLATOR_TIMEOUT=0.2)
async def test_a_slow_provider(alice_client, spanish_post, provider, db, caplog):
    provider.delay = 1
    with caplog.at_level(logging.WARNING, logger="microblog.translate"):
        response = await post(alice_client, f"/post/{spanish_post.id}/translate", htmx=True)
    assert response.status_code == 504
    assert visible(await text_of(response)) == "The translation service did not answer in time. Please try again."
    assert "timeout" in caplog.text
    assert await kept(db) == 0


@pytest.mark.settings(TRANSLATOR_TIMEOUT=0.3)
async def test_a_provider_that_never_finishes_answering(alice_client, spanish_post, provider, db):
    """Each byte comes in time for httpx's per-read timeout; the whole call still ends in time."""
    provider.drip = 0.05
    response = await post(alice_client, f"/post/{spanish_post.id}/translate", htmx=True)
    assert response.status_code == 504
    assert await kept(db) == 0


@pytest.mark.settings(TRANSLATOR="")
async def test_not_configured(alice_client, spanish_post):
    page = await text_of(await alice_client.get("/explore"))
    assert "Translate" not in visible(page)
    response = await post(alice_client, f"/post/{spanish_post.id}/translate", htmx=True)
    assert response.status_code == 503
    assert visible(await text_of(response)) == "Translation is not configured on this site."
    response = await post(alice_client, f"/post/{spanish_post.id}/translate")
    assert response.status_code == 503
    assert "Translation is not configured on this site." in visible(await text_of(response))


@pytest.mark.settings(TRANSLATIONS_PER_HOUR=2)
async def test_translations_per_reader_per_hour(alice_client, bob, spanish_post, provider, db):
    others = []
    for number in range(2):
        other = await make_post(db, bob, f"Otra publicación en español, número {number}, para traducir.")
        other.language = "es"
        others.append(other)
    await db.commit()
    for one in (spanish_post, others[0]):
        assert (await post(alice_client, f"/post/{one.id}/translate", htmx=True)).status_code == 200
    # Already kept: free.
    assert (await post(alice_client, f"/post/{spanish_post.id}/translate", htmx=True)).status_code == 200
    response = await post(alice_client, f"/post/{others[1].id}/translate", htmx=True)
    assert response.status_code == 429
    assert 3000 < int(response.headers["Retry-After"]) <= 3601
    assert visible(await text_of(response)) == (
        "You have translated 2 posts in the last hour, the most allowed. Please try again in 60 minutes.")
    assert len(provider.requests) == 2
    response = await post(alice_client, f"/post/{others[1].id}/translate")
    assert response.status_code == 429
    assert "You have translated 2 posts in the last hour" in visible(await text_of(response))


@pytest.mark.settings(TRANSLATIONS_PER_HOUR=1)
async def test_the_allowance_comes_back_after_an_hour(alice_client, bob, spanish_post, provider, db):
    other = await make_post(db, bob, "Otra publicación en español, para traducir más tarde.")
    other.language = "es"
    await db.commit()
    assert (await post(alice_client, f"/post/{spanish_post.id}/translate", htmx=True)).status_code == 200
    assert (await post(alice_client, f"/post/{other.id}/translate", htmx=True)).status_code == 429
    allowance = await db.scalar(select(TranslationAllowance))
    allowance.window_start = allowance.window_start.replace(year=2000)
    await db.commit()
    response = await post(alice_client, f"/post/{other.id}/translate", htmx=True)
    assert response.status_code == 200
    assert fake_translation(other.body, "en") in visible(await text_of(response))


@pytest.mark.parametrize("api", [pytest.param(api, marks=pytest.mark.settings(TRANSLATOR=api))
                                 for api in ("deepl", "microsoft")])
async def test_other_providers_through_the_site(alice_client, provider, spanish_post, api):
    """DeepL and Microsoft from a reader's click to the answer (LibreTranslate is the folder's
    default: the other tests)."""
    response = await post(alice_client, f"/post/{spanish_post.id}/translate", htmx=True)
    assert response.status_code == 200
    name = {"deepl": "DeepL", "microsoft": "Microsoft Translator"}[api]
    assert f"Translated from Spanish by {name}." in visible(await text_of(response))
    assert provider.api == api and len(provider.requests) == 1
