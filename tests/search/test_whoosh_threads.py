"""Whoosh searched from many threads at once (as asyncio.to_thread runs them): every search gets
the answer a search alone gets. Whoosh's readers keep file positions, so a searcher shared between
threads read other searches' blocks (zlib errors, unpickling errors, wrong or empty results)."""
import asyncio
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from helpers import visible
from microblog.search.backend import HeavySearches
from microblog.search.query import parse
from microblog.search.whoosh import WhooshBackend, document

from .test_indexing import whoosh_app  # noqa: F401 (a fixture)

WORDS = ["lemon", "tea", "cake", "river", "mountain", "garden", "bread", "window", "summer", "letter",
         "music", "forest", "candle", "bridge", "pepper", "island"]
QUERIES = ["lemon", "tea cake", "river OR garden", '"summer music"', "bread -window", "forest candle",
           "bridge OR pepper OR island", "letter", "mountain", "win*"]


def index_of(directory, posts: int) -> WhooshBackend:
    """A real index of `posts` posts of five words each, the same every time (every query above
    matches some of them), in several segments."""
    backend = WhooshBackend(str(directory))
    start, words = datetime(2026, 1, 1, tzinfo=timezone.utc), random.Random(30)
    for first in range(1, posts + 1, 500):  # a commit per batch: several segments
        backend._write([document(n, " ".join(words.sample(WORDS, 5)), "en", start + timedelta(minutes=n))
                        for n in range(first, min(first + 500, posts + 1))], [])
    return backend


async def test_concurrent_searches_answer_as_a_search_alone(tmp_path):
    backend = index_of(tmp_path, 3000)
    alone = {query: await backend.search(None, parse(query), 0, 100) for query in QUERIES}
    assert all(hits.ids for hits in alone.values())
    backend.forget_searcher()
    backend.heavy = HeavySearches(8)  # prefixes ("win*") too, from every thread
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often, whatever the machine's load
    try:
        with ThreadPoolExecutor(8) as pool:  # more threads than asyncio's default would start here
            asyncio.get_running_loop().set_default_executor(pool)
            answers = await asyncio.gather(*(backend.search(None, parse(query), 0, 100) for query in QUERIES * 30),
                                           return_exceptions=True)
    finally:
        sys.setswitchinterval(switching)
    wrong = [(query, answer) for query, answer in zip(QUERIES * 30, answers) if answer != alone[query]]
    assert not wrong, f"{len(wrong)} of {len(answers)} differ, e.g. {[(q, repr(a)[:80]) for q, a in wrong[:3]]}"


async def test_an_unreadable_index_is_busy_not_an_error(whoosh_app, caplog):
    """Files that cannot be read (a disk fault, a half-copied index): 503 with Retry-After."""
    backend = whoosh_app.extensions["search_backend"]
    index_of(backend.directory, 10)
    for segment in backend.directory.glob("*.seg"):
        segment.write_bytes(bytes(segment.stat().st_size))
    response = await whoosh_app.test_client().get("/search", query_string={"q": "lemon"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "Search is busy at the moment." in visible(await response.get_data(as_text=True))
    assert "search failed" in caplog.text
