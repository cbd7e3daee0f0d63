"""/search through HTTP: found after the post's commit, ranking, paging that keeps `q`, the prompt,
active search's fragment, hostile queries, the searcher's grammar, escaped highlights, the old address."""
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import make_post
from helpers import HTMX, assert_varies, older_link, sentinel, visible
from htmltree import parse
from microblog.db import utcnow

from .support import jobs_done, post_ids, publish, search


async def test_a_published_post_is_found(app, alice_client):
    await publish(alice_client, "Tea with lemon is my favourite drink")
    await publish(alice_client, "Coffee in the morning")
    await jobs_done(app)
    page = await search(alice_client, "lemon")
    assert post_ids(page) == [1]
    assert "1 post found" in visible(page)
    assert post_ids(await search(alice_client, "morning")) == [2]
    assert post_ids(await search(alice_client, "nothing-like-this")) == []
    assert "No posts match your search." in visible(await search(alice_client, "nothing-like-this"))


async def test_words_are_found_by_their_stem_in_the_posts_language(app, alice_client):
    await publish(alice_client, "I was running in the park all morning with my dog")
    await publish(alice_client, "Ayer estuvimos corriendo por la playa con los amigos")
    await jobs_done(app)
    assert post_ids(await search(alice_client, "run")) == [1]
    assert post_ids(await search(alice_client, "running")) == [1]
    assert post_ids(await search(alice_client, "playas")) == [2]


async def test_best_match_first_then_newest(app, alice_client):
    await publish(alice_client, "tea with some cake and a biscuit")
    await publish(alice_client, "tea tea tea tea")
    await publish(alice_client, "tea with some cake and a biscuit")
    await publish(alice_client, "no match here at all")
    await jobs_done(app)
    assert post_ids(await search(alice_client, "tea")) == [2, 3, 1]


async def test_anyone_may_search_and_the_navbar_box_leads_here(app, client, db, alice):
    await make_post(db, alice, "visible to visitors")
    page = await search(client, "")
    assert parse(page).find("input", id="navbar-search").get("disabled") is None
    navbar_form = next(a for a in parse(page).find("input", id="navbar-search").ancestors() if a.tag == "form")
    assert navbar_form["action"] == "/search"
    assert "Type a few words to find the posts that contain them." in visible(page)
    assert post_ids(page) == []


async def test_active_search_answers_the_results_alone(app, alice_client):
    await publish(alice_client, "Tea with lemon is my favourite drink")
    await jobs_done(app)
    response = await alice_client.get("/search?q=lemon", headers=HTMX)
    assert response.status_code == 200
    assert_varies(response)
    fragment = await response.get_data(as_text=True)
    assert "<html" not in fragment and post_ids(fragment) == [1]
    assert "1 post found" in visible(fragment)
    # The box updates the results under it and the address bar.
    box = parse(await search(alice_client, "lemon")).find("input", id="search-q")
    assert box["value"] == "lemon" and box["hx-get"] == "/search" and box["hx-target"] == "#search-results"
    assert box["hx-push-url"] == "true" and "delay:300ms" in box["hx-trigger"]
    # A history restore (htmx asks for the whole page) gets the whole page.
    whole = await alice_client.get("/search?q=lemon", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in await whole.get_data(as_text=True)


async def test_next_pages_keep_the_query(app, client, db, alice):
    start = utcnow() - timedelta(hours=1)
    for n in range(7):  # POSTS_PER_PAGE is 3 in the tests
        await make_post(db, alice, f"tea number {n}", when=start + timedelta(minutes=n))
    await make_post(db, alice, "coffee", when=start + timedelta(minutes=30))
    await reindex(app, db)
    first = await search(client, "tea")
    assert post_ids(first) == [7, 6, 5] and "7 posts found" in visible(first)
    link = older_link(first)
    assert parse_qs(urlsplit(link).query) == {"q": ["tea"], "cursor": ["3"]}
    second = await client.get(link)
    assert post_ids(await second.get_data(as_text=True)) == [4, 3, 2]
    # Infinite scroll: the same address, the next page alone.
    fragment = await (await client.get(sentinel(first), headers=HTMX)).get_data(as_text=True)
    assert "<html" not in fragment and post_ids(fragment) == [4, 3, 2]
    last = await (await client.get(older_link(fragment))).get_data(as_text=True)
    assert post_ids(last) == [1] and older_link(last) is None


HOSTILE = ['"unbalanced', "(tea", "tea)", "AND OR", "OR", "NOT", "tea AND", "\x00\x01\x7f", "*", "?", "***",
           '""', "id:1", "body:", "\\", "'", "%", "[a TO", "{", "^2", "~", "tea~~", "a" * 10_000,
           "tea " * 2000, "<script>alert(1)</script>", "ñ", "😀", "tea & (cake | -biscuit) !:*"]


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_find_nothing_or_something_never_a_500(app, client, db, alice, query):
    await make_post(db, alice, "tea and cake")
    await reindex(app, db)
    page = await search(client, query)
    assert "<script>alert" not in page
    assert post_ids(page) in ([], [1])
    fragment = await search(client, query, htmx=True)
    assert post_ids(fragment) in ([], [1])


async def test_too_long_a_query_says_so(app, client):
    page = await search(client, "tea " * 100)
    assert "No posts match your search. Try fewer words." in visible(page)


async def test_or_quotes_and_prefixes(app, client, db, alice):
    for body in ("the wonderful sea", "a quiet sea shore", "sea and wonder", "mountains"):
        await make_post(db, alice, body)
    await reindex(app, db)
    assert sorted(post_ids(await search(client, "quiet OR mountains"))) == [2, 4]
    assert post_ids(await search(client, '"quiet sea"')) == [2]
    assert sorted(post_ids(await search(client, "wonder*"))) == [1, 3]
    assert sorted(post_ids(await search(client, "sea"))) == [1, 2, 3]


async def test_matched_words_are_marked_and_the_rest_escaped(app, client, db, alice):
    await make_post(db, alice, '<script>alert("tea")</script> Tea & <b>cake</b>')
    await reindex(app, db)
    page = await search(client, "tea")
    [body] = [p for p in parse(page).iter() if p.has_class("post-body")]
    assert body.inner_html == ('&lt;script&gt;alert(&#34;<mark>tea</mark>&#34;)&lt;/script&gt; <mark>Tea</mark> '
                               '&amp; &lt;b&gt;cake&lt;/b&gt;')
    assert "<script>" not in page and "<b>cake" not in page


async def test_the_seeds_old_address_moves_here(app, client):
    response = await client.get("/search_results/green tea")
    assert response.status_code == 301
    assert response.headers["Location"] == "/search?q=green+tea"


async def reindex(app, db):
    """Index what make_post wrote straight into the database (no job): the reindex command's work."""
    from sqlalchemy import func, select

    from microblog.posts.models import Post
    async with app.app_context():
        backend = app.extensions["search_backend"]
        await backend.rebuild(db, await db.scalar(select(func.count()).select_from(Post)), lambda n: None)
        await db.commit()


async def test_a_word_in_many_posts_ranks_the_newest_and_says_so(app, client, db, alice):
    """Only the newest matches are ranked (bounded work); the count says there are more."""
    from microblog.search.backend import CANDIDATES
    from microblog.posts.models import Post
    from sqlalchemy import insert
    start = utcnow() - timedelta(days=1)
    await db.execute(insert(Post), [{"body": f"lemon {n}", "user_id": alice.id, "language": "",
                                      "timestamp": start + timedelta(seconds=n)} for n in range(5 * CANDIDATES)])
    await db.commit()
    await reindex(app, db)
    page = await search(client, "lemon")
    assert post_ids(page) == [5 * CANDIDATES, 5 * CANDIDATES - 1, 5 * CANDIDATES - 2]  # equals: newest first
    assert re.search(rf"More than \d+ posts found; the newest are shown.|{5 * CANDIDATES} posts found", visible(page))


GRAMMAR = [("timestamp:*", [2]), ("id:*", []), ("id:1", []), ("body_en:cake", []), ("body:tea", []),
           ("*a* OR *e* OR *i* OR *o* OR *u*", []), ("?????", []), ("a*", []), ("*ake", []), ("c?ke", []),
           ("[a TO z]", []), ("run*", [3]), ("ru*", []), ("RUN*", [3]), ("tea OR photo", [1, 2]),
           ("cake -tea", []), ("photo -tea", [2]), ('"late running"', []), ('"running late"', [3])]


@pytest.mark.parametrize("query,found", GRAMMAR)
async def test_searchers_grammar_field_names_and_wildcards_are_plain_words(app, client, db, alice, query, found):
    """Words, "phrases", OR, -word and a prefix of 3 letters or more; anything else is words."""
    await make_post(db, alice, "tea and cake")
    await make_post(db, alice, "the timestamp on the photo")
    await make_post(db, alice, "we were running late")  # no word of one letter: PostgreSQL finds those
    await reindex(app, db)
    assert sorted(post_ids(await search(client, query))) == found


async def test_only_words_to_leave_out_are_not_searched(app, client, db, alice):
    """They would read every post (1 s at 100,000 posts on PostgreSQL): the page says what to do."""
    await make_post(db, alice, "tea and cake")
    await make_post(db, alice, "coffee")
    await reindex(app, db)
    page = await search(client, "-tea -cake")
    assert post_ids(page) == []
    assert "No posts match your search. Add a word to look for, not only words to leave out." in visible(page)
