"""A post's text: counted as people count (grapheme clusters, every web address as 23), never
cut; its http and https addresses are links, and nothing else in it is interpreted."""
import pytest

from conftest import make_post, make_user, login
from helpers import field_errors, page_of, post, text_of, textarea_value
from htmltree import parse
from microblog import create_app
from microblog.config import from_environment
from microblog.posts import Post
from microblog.posts.text import URL_LENGTH, length, linkify
from sqlalchemy import select


@pytest.mark.parametrize("text, expected", [
    ("hello", 5),
    ("🇪🇸", 1),  # a flag: two code points
    ("👍🏽", 1),  # a thumb and its skin tone
    ("e\u0301", 1),  # e and a combining accent
    ("👩‍👩‍👧", 1),  # a family joined by zero-width joiners
    ("a\r\nb", 3),  # a line break as a browser sends it
    ("see https://example.org/a/very/long/path/that/goes/on/and/on", 4 + URL_LENGTH),
    ("http://a.example and https://b.example.", URL_LENGTH + 5 + URL_LENGTH + 1),
    ("ftp://example.org javascript:alert(1)", 37),  # not web addresses: counted as written
])
def test_length_as_people_count(text, expected):
    assert length(text) == expected


def test_addresses_become_links_and_nothing_else_is_interpreted():
    html = str(linkify('<b>hi</b> see https://www.example.org/wiki/Foo_(bar), and (https://x.example/a?b=1&c=2).'
                       ' javascript:alert(1) www.example.org'))
    links = parse(html).find_all("a")
    assert [link["href"] for link in links] == ["https://www.example.org/wiki/Foo_(bar)", "https://x.example/a?b=1&c=2"]
    assert all(link["rel"] == "nofollow noopener noreferrer ugc" for link in links)
    assert [link.text for link in links] == ["example.org/wiki/Foo_(bar)", "x.example/a?b=1&c=2"]
    assert html.startswith("&lt;b&gt;hi&lt;/b&gt; see ") and "javascript:alert(1) www.example.org" in html
    assert "</a>). javascript:" in html  # the sentence's own punctuation stays out of the link
    long = "https://example.org/" + "a" * 100
    [link] = parse(str(linkify(long))).find_all("a")
    assert link["href"] == long and link.text == "example.org/" + "a" * 17 + "…" and len(link.text) == 30


def test_an_address_cannot_break_out_of_its_link():
    html = str(linkify('https://example.org/"onmouseover="alert(1) https://example.org/<script>'))
    assert '"onmouseover' not in html and "<script>" not in html
    assert [link["href"] for link in parse(html).find_all("a")] == ["https://example.org/", "https://example.org/"]


async def test_links_in_posts_are_clickable_on_cards(app, db, client):
    alice = await make_user(db, "alice")
    await make_post(db, alice, "read https://example.org/article now")
    [link] = parse(await page_of(client, "/explore")).find("article").find_all("a", rel="nofollow noopener noreferrer ugc")
    assert link["href"] == "https://example.org/article" and link.text == "example.org/article"


async def test_too_long_is_refused_with_the_text_kept_and_the_default_is_500(app, app_config, db):
    await make_user(db, "alice")
    text = "word " * 60  # 300 characters
    client = app.test_client()  # POST_MAX_CHARS=140 in the tests
    assert (await login(client, "alice")).status_code == 303
    refused = await post(client, "/index", {"post": text})
    page = await text_of(refused)
    assert refused.status_code == 422 and textarea_value(page, "post") == text.strip()
    assert field_errors(page, "post") == ["Posts are at most 140 characters."]

    default = create_app({**app_config, "POST_MAX_CHARS": 500})
    async with default.test_app():
        other = default.test_client()
        assert (await login(other, "alice")).status_code == 303
        assert (await post(other, "/index", {"post": text})).status_code == 303
    assert await db.scalar(select(Post.body)) == text.strip()


def test_the_limit_is_a_setting_500_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROBLOG_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.delenv("POST_MAX_CHARS", raising=False)
    assert from_environment(str(tmp_path))["POST_MAX_CHARS"] == 500
    monkeypatch.setenv("POST_MAX_CHARS", "1000")
    assert from_environment(str(tmp_path))["POST_MAX_CHARS"] == 1000


async def test_emoji_and_addresses_count_as_people_count_them(app, db):
    await make_user(db, "alice")
    client = app.test_client()
    assert (await login(client, "alice")).status_code == 303
    flags = "🇪🇸" * 140  # 280 code points, 140 characters as people count
    addresses = " ".join(f"https://example.org/{'p' * 80}/{n}" for n in range(5))  # 5 × 23 + 4 spaces
    for text in (flags, addresses):
        assert (await post(client, "/index", {"post": text})).status_code == 303, text[:20]
    assert (await post(client, "/index", {"post": flags + "!"})).status_code == 422
    assert len(list(await db.scalars(select(Post.id)))) == 2


async def test_the_box_says_the_limit_and_carries_the_counting_rule(app, db):
    await make_user(db, "alice")
    client = app.test_client()
    assert (await login(client, "alice")).status_code == 303
    box = parse(await page_of(client, "/index")).find("textarea", name="post")
    assert box.get("maxlength") is None  # the browser would cut a pasted text silently
    assert box["data-max-chars"] == "140" and box["data-url-length"] == str(URL_LENGTH)
    assert box["data-url-pattern"].startswith("https?://")
    assert "At most 140 characters." in parse(await page_of(client, "/index")).find(id="post-hint").text
