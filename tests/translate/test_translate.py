"""Translating a post through HTTP, with htmx and without JavaScript: what the reader sees, what is
kept, and who may ask."""
import asyncio

import pytest
from sqlalchemy import select

from conftest import TEST_CONFIG, login, make_post, make_user, post, text_of
from helpers import HTMX, alice_client, assert_varies, page_of, visible  # noqa: F401 (fixture)
from htmltree import parse
from microblog import create_app
from microblog.translate import PostTranslation

from .conftest import SPANISH
from .support import fake_translation

TRANSLATED = fake_translation(SPANISH, "en")


def translate_form(page: str, post_id: int):
    """The "Translate" form under the post, or None."""
    return next((f for f in parse(page).find_all("form") if f.get("action") == f"/post/{post_id}/translate"), None)


async def test_translate_link_under_a_post_in_another_language(alice_client, spanish_post, db, bob):
    english = await make_post(db, bob, "Good morning everyone, the weather is lovely in London today.")
    english.language = "en"
    unknown = await make_post(db, bob, "lol")
    await db.commit()
    page = await page_of(alice_client, "/explore")
    form = translate_form(page, spanish_post.id)
    assert form is not None and form["method"] == "post"
    assert form["hx-post"] == f"/post/{spanish_post.id}/translate"
    assert parse(page).find(id=form["hx-indicator"].lstrip("#")) is not None  # the spinner
    assert translate_form(page, english.id) is None  # already in the reader's language
    assert translate_form(page, unknown.id) is None  # language not known


async def test_spanish_reader_gets_the_link_under_english_posts_only(client, alice, bob, db, spanish_post):
    english = await make_post(db, bob, "Good morning everyone, the weather is lovely in London today.")
    english.language = "en-GB"
    spanish_post.language = "es-MX"  # compared by primary subtag
    await db.commit()
    await login(client, "alice")
    response = await client.get("/explore", headers={"Accept-Language": "es"})
    page = await text_of(response)
    assert translate_form(page, english.id) is not None
    assert translate_form(page, spanish_post.id) is None


async def test_no_link_for_visitors(client, spanish_post):
    page = await page_of(client, "/explore")
    assert translate_form(page, spanish_post.id) is None


async def test_translate_with_htmx_then_show_original(alice_client, spanish_post, provider, db):
    response = await post(alice_client, f"/post/{spanish_post.id}/translate", htmx=True)
    assert response.status_code == 200
    assert_varies(response)
    fragment = await text_of(response)
    box = parse(fragment).find(id=f"translation-{spanish_post.id}")
    assert TRANSLATED in visible(fragment)
    assert "Translated from Spanish by LibreTranslate." in visible(fragment)
    assert "<html" not in fragment  # only the piece under the post
    [show_original] = [a for a in box.find_all("a") if a.text.strip() == "Show original"]
    original = await page_of(alice_client, show_original["hx-get"], htmx=True)
    assert translate_form(original, spanish_post.id) is not None
    assert TRANSLATED not in original
    assert len(provider.requests) == 1
    assert (await db.scalar(select(PostTranslation.text))) == TRANSLATED


async def test_translate_without_javascript(alice_client, spanish_post):
    page = await page_of(alice_client, "/explore")
    response = await post(alice_client, translate_form(page, spanish_post.id)["action"],
                          headers={"Referer": "http://localhost/explore"})
    assert response.status_code == 200
    assert_varies(response)
    page = await text_of(response)
    assert "<html" in page
    assert SPANISH in visible(page) and TRANSLATED in visible(page)
    assert translate_form(page, spanish_post.id) is None  # the translation is shown instead
    back = [a for a in parse(page).find_all("a") if a.text.strip() == "Show original"]
    assert back and back[0]["href"] == "/explore"


async def test_original_page_without_javascript(alice_client, spanish_post):
    page = await page_of(alice_client, f"/post/{spanish_post.id}/translate")
    assert SPANISH in visible(page)
    assert translate_form(page, spanish_post.id) is not None


async def test_translating_needs_the_csrf_token(alice_client, spanish_post, provider):
    response = await alice_client.post(f"/post/{spanish_post.id}/translate", headers=HTMX)
    assert response.status_code == 400
    assert provider.requests == []


async def test_visitors_are_sent_to_log_in(client, spanish_post, provider):
    response = await post(client, f"/post/{spanish_post.id}/translate")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    response = await post(client, f"/post/{spanish_post.id}/translate", htmx=True)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/auth/login")
    assert provider.requests == []


async def test_a_post_that_is_gone(alice_client):
    response = await post(alice_client, "/post/999/translate", htmx=True)
    assert response.status_code == 404
    assert visible(await text_of(response)) == "Post not found."


@pytest.mark.parametrize("language, message", [
    ("", "The language of this post is not known, so it cannot be translated."),
    ("en-US", "This post is already in your language."),
])
async def test_posts_that_need_no_translation(alice_client, spanish_post, db, provider, language, message):
    spanish_post.language = language
    await db.commit()
    response = await post(alice_client, f"/post/{spanish_post.id}/translate", htmx=True)
    assert response.status_code == 400
    assert visible(await text_of(response)) == message
    assert provider.requests == []


async def test_a_popular_post_is_translated_once(client, app, alice, spanish_post, provider, db):
    for nickname in ("carol", "dave"):
        await make_user(db, nickname)
    for nickname in ("alice", "carol", "dave"):
        reader = app.test_client()
        await login(reader, nickname)
        response = await post(reader, f"/post/{spanish_post.id}/translate", htmx=True)
        assert response.status_code == 200
        assert TRANSLATED in visible(await text_of(response))
    assert len(provider.requests) == 1


async def test_two_readers_at_the_same_moment(app, alice, spanish_post, provider, db):
    await make_user(db, "carol")
    provider.delay = 0.3
    readers = []
    for nickname in ("alice", "carol"):
        reader = app.test_client()
        await login(reader, nickname)
        readers.append(reader)
    responses = await asyncio.gather(*(
        post(reader, f"/post/{spanish_post.id}/translate", htmx=True) for reader in readers))
    assert [r.status_code for r in responses] == [200, 200]
    for response in responses:
        assert TRANSLATED in visible(await text_of(response))
    assert len(provider.requests) == 1
    assert len((await db.scalars(select(PostTranslation))).all()) == 1


async def test_a_post_deleted_while_it_is_being_translated(app, alice, bob, spanish_post, provider, db):
    """Its author deletes it during the provider's call: the reader still gets the translation
    (no error), nothing is kept, and the post is gone."""
    reader, author = app.test_client(), app.test_client()
    await login(reader, "alice")
    await login(author, "bob")
    provider.delay = 0.5

    async def delete_meanwhile():
        await asyncio.sleep(0.2)
        return await post(author, f"/post/{spanish_post.id}/delete")

    translated, deleted = await asyncio.gather(
        post(reader, f"/post/{spanish_post.id}/translate", htmx=True), delete_meanwhile())
    assert deleted.status_code == 303
    assert translated.status_code == 200
    assert TRANSLATED in visible(await text_of(translated))
    assert (await db.scalars(select(PostTranslation))).all() == []


@pytest.mark.settings(TRANSLATIONS_PER_HOUR=1)
async def test_a_reader_out_of_translations_does_not_hold_up_another(app, alice, bob, spanish_post, provider, db):
    """Alice has used her hour's translation; Carol asks for the same new post at the same moment
    and gets it, whichever of them asked the provider first."""
    await make_user(db, "carol")
    other = await make_post(db, bob, "Otra publicación en español, para traducir a la vez.")
    other.language = "es"
    await db.commit()
    alice_reader, carol_reader = app.test_client(), app.test_client()
    await login(alice_reader, "alice")
    await login(carol_reader, "carol")
    assert (await post(alice_reader, f"/post/{spanish_post.id}/translate", htmx=True)).status_code == 200
    provider.delay = 0.2
    alice_response, carol_response = await asyncio.gather(
        post(alice_reader, f"/post/{other.id}/translate", htmx=True),
        post(carol_reader, f"/post/{other.id}/translate", htmx=True))
    assert carol_response.status_code == 200
    assert fake_translation(other.body, "en") in visible(await text_of(carol_response))
    assert alice_response.status_code in (200, 429)  # 200: she waited for Carol's call, which cost nothing more
    assert len(provider.requests) == 2


async def test_an_http_client_only_with_a_translator(app, database_url):
    """The provider's client is opened when serving starts, and only when a translator is set: no
    other app opens one (nor its TLS context)."""
    assert "translate_http" in app.extensions
    bare = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "TRANSLATOR": ""})
    async with bare.test_app():
        assert "translate_http" not in bare.extensions
