"""Which language a post is in, how languages are compared, and `quart posts detect-languages`."""
import asyncio

import pytest
from sqlalchemy import select

from conftest import TEST_CONFIG, empty_database, make_post, make_user
from microblog import create_app
from microblog.db import new_session
from microblog.posts import Post
from microblog.posts.language import detect_language_sync, probabilities
from microblog.translate import primary

TEXTS = {
    "en": "The weather is lovely today and I am going for a long walk in the park.",
    "es": "Hoy hace muy buen tiempo y voy a dar un largo paseo por el parque.",
    "de": "Heute ist das Wetter sehr schön und ich mache einen langen Spaziergang im Park.",
    "fr": "Il fait très beau aujourd'hui et je vais faire une longue promenade dans le parc.",
    "it": "Oggi il tempo è bellissimo e vado a fare una lunga passeggiata nel parco.",
    "ru": "Сегодня прекрасная погода, и я иду на долгую прогулку в парк.",
    "zh": "今天天气很好，我要去公园散步很长时间，然后和朋友一起吃晚饭。",
}


@pytest.mark.parametrize("language", TEXTS)
def test_detection(language):
    assert primary(detect_language_sync(TEXTS[language])) == language


def test_the_answers_are_exactly_langdetects_own(monkeypatch):
    """Its table of n-grams is kept sparse here (17 MiB instead of 65 in every worker): every
    probability of every answer is still the one langdetect itself gives."""
    import langdetect
    from langdetect import DetectorFactory, LangDetectException

    monkeypatch.setattr(DetectorFactory, "seed", 0)

    def answer(detect, text):
        try:
            return [(language.lang, language.prob) for language in detect(text)]
        except LangDetectException as error:
            return str(error)

    unclear = ["ok ok ok ok ok ok ok ok ok ok", "lol that's so cool haha 😂", "Merci, danke schön, thank you",
               "Hola! How are you? Ça va?", "12345 67890 !!!", "これは日本語のテキストです。"]
    for text in [*TEXTS.values(), *unclear]:
        ours = answer(probabilities, text)
        assert ours == answer(langdetect.detect_langs, text), text
    assert len(answer(probabilities, unclear[1])) > 1  # the comparison covers close calls too


@pytest.mark.parametrize("text", ["ok", "lol", "htmx rocks", "😀😀😀", "", "12345 67890 12345"])
def test_too_short_or_unclear_is_unknown(text):
    assert detect_language_sync(text) == ""


@pytest.mark.parametrize("code, expected", [
    ("es", "es"), ("es-MX", "es"), ("es_MX", "es"), ("zh-cn", "zh"), ("zh-tw", "zh"), ("EN-GB", "en"),
    ("", ""), (None, ""),
])
def test_languages_compare_by_primary_subtag(code, expected):
    assert primary(code) == expected


def test_detect_languages_backfills_posts_without_one(database_url):
    asyncio.run(empty_database(database_url))
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})

    async def seed():
        await app.startup()
        try:
            async with app.app_context():
                async with new_session() as db:
                    author = await make_user(db, "alice")
                    for language, text in TEXTS.items():
                        await make_post(db, author, text)
                    await make_post(db, author, "lol")
                    kept = await make_post(db, author, "Ceci est un message déjà classé.")
                    kept.language = "fr"
                    await db.commit()
        finally:
            await app.shutdown()

    async def languages():
        await app.startup()
        try:
            async with app.app_context():
                async with new_session() as db:
                    return (await db.execute(select(Post.body, Post.language).order_by(Post.id))).all()
        finally:
            await app.shutdown()

    asyncio.run(seed())
    result = app.test_cli_runner().invoke(args=["posts", "detect-languages"])
    assert result.exit_code == 0, result.output
    assert "Detecting languages" in result.output
    assert result.output.strip().endswith(
        f"{len(TEXTS) + 1} post(s) looked at, a language found for {len(TEXTS)}; "
        "1 too short or unclear (left without one).")
    found = dict(asyncio.run(languages()))
    assert {primary(found[text]) for text in TEXTS.values()} == set(TEXTS)
    assert found["lol"] == "" and found["Ceci est un message déjà classé."] == "fr"
    again = app.test_cli_runner().invoke(args=["posts", "detect-languages"])
    assert again.output.strip().endswith("1 post(s) looked at, a language found for 0; "
                                         "1 too short or unclear (left without one).")
    redone = app.test_cli_runner().invoke(args=["posts", "detect-languages", "--all"])
    assert f"{len(TEXTS) + 2} post(s) looked at" in redone.output
