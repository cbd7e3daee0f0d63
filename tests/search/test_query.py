"""The searcher's grammar (query.py) and the work a hostile query can cause, counted as work done
(index terms a search reads, searches refused), never as time."""
from datetime import datetime, timedelta, timezone

import pytest

from microblog.search.postgres import tsquery_text
from microblog.search.query import MAX_TERMS, PREFIX_TERMS, Phrase, Query, Word, parse
from microblog.search.whoosh import SEARCH_FIELDS, WhooshBackend, document, whoosh_query

from .support import HTMX

ORS_200 = " OR ".join(f"w{n}" for n in range(40))[:200]
ALPHABET = " OR ".join(f"*{letter}*" for letter in "abcdefghijklmnopqrstuvwxyz")  # the probe's 129 characters
HOSTILE = ["timestamp:*", "id:*", "body_en:x", ALPHABET, "?????", "a*", ORS_200, "run*", "*run*", "r*n",
           " ".join(f"run{n}*" for n in range(20)), " OR ".join(["run*"] * 30), '"' + "run " * 50 + '"']


@pytest.mark.parametrize("text,query", [
    ("lemon tea OR coffee", Query(((Word("lemon"),), (Word("tea"), Word("coffee"))))),
    ('"Quiet sea" shore', Query(((Phrase(("quiet", "sea")),), (Word("shore"),)))),
    ("wonder* -cake", Query(((Word("wonder", prefix=True),),), ("cake",))),
    ("timestamp:* id:1", Query(((Word("timestamp"),), (Word("id"),), (Word("1"),)))),
    ("*a* OR ?e? OR a*", Query(((Word("a"), Word("e"), Word("a")),))),
    ("?????", Query()), ("OR", Query()), ('""', Query()), ("-tea", Query((), ("tea",))),
    ("tea^2 [a TO b] body_en:x", Query(((Word("tea"),), (Word("2"),), (Word("a"),), (Word("to"),), (Word("b"),),
                                        (Word("body_en"),), (Word("x"),)))),
])
def test_the_grammar(text, query):
    assert parse(text) == query


@pytest.mark.parametrize("text", HOSTILE)
def test_at_most_max_terms_are_read(text):
    query = parse(text)
    words = sum(len(item.words) if isinstance(item, Phrase) else 1 for group in query.groups for item in group)
    assert words + len(query.excluded) <= MAX_TERMS
    # PostgreSQL: that many operands, whatever was typed.
    assert tsquery_text(query).count("'") // 2 <= MAX_TERMS


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """A real index whose words include 500 beginning with "run" (run0 ... run499)."""
    backend = WhooshBackend(str(tmp_path_factory.mktemp("index")))
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    backend._write([document(n, f"run{n} running a timestamp w{n} {chr(97 + n % 26)}", "en",
                             start + timedelta(minutes=n)) for n in range(500)], [])
    searcher = backend._current_searcher()
    yield searcher.reader()
    searcher.close()


@pytest.mark.parametrize("text", HOSTILE)
def test_whoosh_reads_a_bounded_number_of_terms(reader, text):
    """Whatever was typed, the index terms the search reads: at most MAX_TERMS words in each field,
    or MAX_TERMS prefixes of PREFIX_TERMS words each; never another field than the posts' words."""
    terms = whoosh_query(parse(text), reader).existing_terms(reader, expand=True)
    assert len(terms) <= MAX_TERMS * max(len(SEARCH_FIELDS), PREFIX_TERMS)
    assert all(field.startswith("body") for field, _ in terms)


def test_a_prefix_stands_for_at_most_prefix_terms_words(reader):
    terms = whoosh_query(parse("run*"), reader).existing_terms(reader, expand=True)
    assert len(terms) == PREFIX_TERMS and all(term.startswith(b"run") for _, term in terms)


async def test_one_heavy_search_at_a_time_the_next_is_told_busy(app, client, db, alice):
    """A search with a prefix while another runs in this worker: 503 with Retry-After, at once;
    searches without a prefix go on."""
    from .test_search_page import reindex
    from conftest import make_post
    await make_post(db, alice, "I was running late")
    await reindex(app, db)
    heavy = app.extensions["search_backend"].heavy
    with heavy.slot():  # a heavy search running
        for headers in ({}, HTMX):
            response = await client.get("/search", query_string={"q": "run*"}, headers=headers)
            assert response.status_code == 503 and response.headers["Retry-After"]
        assert (await client.get("/search", query_string={"q": "running"})).status_code == 200
    assert heavy.refused == 2
    response = await client.get("/search", query_string={"q": "run*"})
    assert response.status_code == 200 and heavy.refused == 2


def test_the_highlighter_marks_the_grammars_words_prefixes_and_phrases_not_exclusions():
    from microblog.search.highlight import highlight
    marked = highlight("Running <late> for tea, id:1", "en", parse('run* "for tea" -late id:*'))
    assert marked == "<mark>Running</mark> &lt;late&gt; <mark>for</mark> <mark>tea</mark>, <mark>id</mark>:1"
