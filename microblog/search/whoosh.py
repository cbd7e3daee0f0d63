"""Whoosh: an index of files in the instance folder, for SQLite sites (a Pi needs nothing else).

Each post is indexed twice: its plain words (`body`) and its words stemmed in its own language
(`body_<language>`, for the languages Whoosh can stem), and a query looks in all those fields, so
"run" finds "running" in an English post and "corre" finds "corriendo" in a Spanish one. What was
typed is read by query.py's grammar, and `whoosh_query` builds Whoosh's query from that (Whoosh's
own parser would take field names, wildcards and ranges from anyone).

Whoosh allows one writer at a time, by a file lock: a writer waits for it up to WRITE_TIMEOUT,
then the job fails and is retried later (the jobs' backoff), so two workers never see an error.
Everything touching the files runs in a thread, never on the event loop.

Only public posts are indexed: a followers-only post from elsewhere is, to the index, a post
that is not there (its sync removes it, a rebuild leaves it out).
"""
import asyncio
import fcntl
import logging
import threading
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from itertools import islice
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from whoosh import index
from whoosh.analysis import LanguageAnalyzer, StandardAnalyzer
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.lang import has_stemmer
from whoosh.query import And, AndNot, Every, NullQuery, Or, Term
from whoosh.query import Phrase as PhraseQuery

from ..db import EPOCH
from ..posts.models import PUBLIC, Post
from .backend import CANDIDATES, HeavySearches, Hits, Progress, SearchUnavailable
from .query import PREFIX_TERMS, Phrase, Query, Word

WRITE_TIMEOUT = 10.0  # seconds a writer waits for another worker's writer
LANGUAGES = sorted(code for code in ("ar", "da", "de", "en", "es", "fi", "fr", "hu", "it", "nl", "no", "pt",
                                     "ro", "ru", "sv", "tr") if has_stemmer(code))
BATCH = 5000
logger = logging.getLogger(__name__)


def _schema() -> Schema:
    fields = {"id": ID(stored=True, unique=True), "timestamp": NUMERIC(int, bits=64, sortable=True),
              "body": TEXT(analyzer=StandardAnalyzer())}
    fields.update({f"body_{code}": TEXT(analyzer=LanguageAnalyzer(code)) for code in LANGUAGES})
    return Schema(**fields)


SCHEMA = _schema()
SEARCH_FIELDS = ["body"] + [f"body_{code}" for code in LANGUAGES]


def document(post_id: int, body: str, language: str, timestamp) -> dict:
    fields = {"id": str(post_id), "body": body,
              "timestamp": (timestamp - EPOCH) // timedelta(microseconds=1)}
    if language in LANGUAGES:
        fields[f"body_{language}"] = body
    return fields


class WhooshBackend:
    name = "whoosh"
    indexes_by_job = True

    def __init__(self, directory: str):
        self.directory = Path(directory)
        # A searcher per thread: Whoosh's readers keep file positions, and threads sharing one read
        # each other's blocks. `_generation` grows when every thread's searcher must be let go.
        self._local = threading.local()
        self._generation = 0
        self.heavy = HeavySearches()

    # --- the files ------------------------------------------------------------------------------

    @contextmanager
    def _creation_lock(self):
        # Two workers creating the index at once would each write a fresh, empty one.
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "create.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _open_existing(self):
        """The index as it is now, or None if there is none. Opening reads the table of contents
        its last commit wrote (whoosh's exists_in opens it too); a commit in another thread or
        worker at that moment replaces it, the old file gone before it is read: read the new one."""
        for attempt in range(3):
            try:
                return index.open_dir(str(self.directory)) if index.exists_in(str(self.directory)) else None
            except FileNotFoundError:
                if attempt == 2:
                    raise

    def _open(self, create: bool = False):
        found = self._open_existing()
        if found is not None or not create:
            return found
        with self._creation_lock():
            found = self._open_existing()
            return found if found is not None else index.create_in(str(self.directory), SCHEMA)

    def _writer(self, ix):
        return ix.writer(timeout=WRITE_TIMEOUT, delay=0.05)

    # --- searching ------------------------------------------------------------------------------

    def _current_searcher(self):
        """This thread's searcher of the index as it is now (None: there is no index). Opening one
        per search cost 4.5-5.5 ms on 20,000 posts, more than the search; checking that a kept one
        is up to date costs microseconds."""
        local = self._local
        searcher = getattr(local, "searcher", None)
        if searcher is not None and (local.generation != self._generation or not searcher.up_to_date()):
            searcher.close()
            searcher = local.searcher = None
        ix = self._open_existing()
        if ix is None:  # removed, to be rebuilt: nothing found meanwhile
            return None
        if searcher is None:
            # Not refresh(): it reuses the readers of unchanged segments and would miss deletions.
            local.searcher, local.generation = ix.searcher(), self._generation
        return local.searcher

    def _search(self, query: Query, offset: int, limit: int) -> Hits:
        # In the thread: a search the request gave up on (REQUEST_TIMEOUT) keeps its slot until done.
        with self.heavy.slot() if query.heavy else nullcontext():
            searcher = self._current_searcher()
            if searcher is None:
                return Hits()
            return self._ranked(searcher, whoosh_query(query, searcher.reader()), offset, limit)

    def _ranked(self, searcher, query, offset: int, limit: int) -> Hits:
        found, more = newest_matches(searcher, query, CANDIDATES)
        found.sort(reverse=True)  # best score first, then newest
        page = found[offset:min(offset + limit, CANDIDATES)]
        return Hits([int(searcher.stored_fields(docnum)["id"]) for *_, docnum in page], len(found), more)

    async def search(self, db: AsyncSession, query: Query, offset: int, limit: int) -> Hits:
        try:
            return await asyncio.to_thread(self._search, query, offset, limit)
        except index.EmptyIndexError:
            return Hits()
        except SearchUnavailable:
            raise
        except Exception as error:  # the files unreadable (a disk full, a half-copied index)
            logger.exception("search failed")
            raise SearchUnavailable() from error

    def forget_searcher(self) -> None:
        """Every thread opens a fresh searcher at its next search (after a rebuild)."""
        self._generation += 1

    # --- writing --------------------------------------------------------------------------------

    def _write(self, documents: list[dict], gone: list[int]) -> None:
        writer = self._writer(self._open(create=True))
        try:
            for fields in documents:
                writer.update_document(**fields)
            for post_id in gone:
                writer.delete_by_term("id", str(post_id))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    async def sync(self, db: AsyncSession, post_ids: list[int]) -> None:
        rows = (await db.execute(select(Post.id, Post.body, Post.language, Post.timestamp)
                                 .where(Post.id.in_(post_ids), Post.visibility == PUBLIC))).all()
        documents = [document(*row) for row in rows]
        found = {row.id for row in rows}
        await asyncio.to_thread(self._write, documents, [i for i in post_ids if i not in found])

    async def rebuild(self, db: AsyncSession, total: int, progress: Progress) -> None:
        """A fresh index, written by one writer while the old one still answers searches; a post
        written meanwhile is in it too, or is put in by its own job (which waits for this writer)."""
        ix = await asyncio.to_thread(self._open, True)
        writer = await asyncio.to_thread(lambda: ix.writer(timeout=WRITE_TIMEOUT, limitmb=128))
        try:
            await asyncio.to_thread(lambda: writer.delete_by_query(Every()))
            after = (EPOCH, 0)  # oldest first: searches read the newest documents first (see below)
            while True:
                rows = (await db.execute(select(Post.id, Post.body, Post.language, Post.timestamp)
                                         .where(tuple_(Post.timestamp, Post.id) > after, Post.visibility == PUBLIC)
                                         .order_by(Post.timestamp, Post.id).limit(BATCH))).all()
                if not rows:
                    break
                await asyncio.to_thread(_add_all, writer, [document(*row) for row in rows])
                after = (rows[-1].timestamp, rows[-1].id)
                progress(len(rows))
            await asyncio.to_thread(writer.commit, optimize=True)
        except BaseException:
            await asyncio.to_thread(writer.cancel)
            raise
        self.forget_searcher()


def whoosh_query(query: Query, reader):
    """`query` for Whoosh: each word in every field, as that field's analyser reads it (stemmed in
    body_<language>); a prefix among the plain words only, and only the first PREFIX_TERMS words of
    the index that begin with it. A word the plain field leaves out ("the", a single letter) is
    left out of the query too: no post has it there."""
    def word(text: str):
        if not _analysed("body", text):
            return None
        return Or([Term(name, term) for name in SEARCH_FIELDS for term in _analysed(name, text)])

    def phrase(words: tuple[str, ...]):
        if not _analysed("body", " ".join(words)):
            return None
        each = [(name, _analysed(name, " ".join(words))) for name in SEARCH_FIELDS]
        return Or([PhraseQuery(name, terms) if len(terms) > 1 else Term(name, terms[0])
                   for name, terms in each if terms])

    def item(found: Word | Phrase):
        if isinstance(found, Phrase):
            return phrase(found.words)
        if found.prefix:
            return Or([Term("body", term) for term in islice(reader.expand_prefix("body", found.text), PREFIX_TERMS)])
        return word(found.text)

    groups = [[q for q in map(item, group) if q is not None] for group in query.groups]
    positive = And([Or(group) for group in groups if group])
    excluded = [q for q in map(word, query.excluded) if q is not None]
    if not positive.subqueries:
        return NullQuery
    return (AndNot(positive, Or(excluded)) if excluded else positive).normalize()


def _analysed(field: str, text: str) -> list[str]:
    return list(SCHEMA[field].process_text(text, mode="query"))


def newest_matches(searcher, query, wanted: int) -> tuple[list[tuple[float, int, int]], bool]:
    """(score, timestamp, docnum) of the newest matches, `wanted` of them or a few more, and
    whether older ones were left unread. Documents are added oldest first (a post when it is
    published, `rebuild` in order of time), so the newest are the last: reading a window at the
    end, widened until enough match, bounds the work for a word in thousands of posts."""
    found: list[tuple[float, int, int]] = []
    leaves = list(searcher.leaf_searchers())
    for position in range(len(leaves) - 1, -1, -1):
        leaf, base = leaves[position]
        reader, end, window = leaf.reader(), leaf.doc_count_all(), 2 * wanted
        if end == 0:
            continue  # an index holding no document at all: its reader has no columns
        timestamps = reader.column_reader("timestamp")
        read = 0
        while end > 0 and len(found) < wanted:
            start = max(0, end - window)
            read += end - start
            matcher = query.matcher(leaf, leaf.context())
            if matcher.is_active() and matcher.id() < start:
                matcher.skip_to(start)
            while matcher.is_active() and matcher.id() < end:
                docnum = matcher.id()
                if not reader.is_deleted(docnum):
                    found.append((matcher.score(), timestamps[docnum], base + docnum))
                matcher.next()
            # Wide enough for the matches still wanted at the density seen so far (a tenth more).
            end = start
            window = window * 4 if not found else int((wanted - len(found)) * read / len(found) * 1.1) + 1
        if len(found) >= wanted:
            return found, end > 0 or position > 0
    return found, False


def _add_all(writer, documents: list[dict]) -> None:
    for fields in documents:
        writer.add_document(**fields)
