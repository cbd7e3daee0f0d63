"""PostgreSQL full-text search: no index to keep in step, the database is the index.

A GIN index on the post's words, stemmed with the text search configuration of its language
(`simple` when PostgreSQL has none, or the language is unknown), declared here on the post table so
that migrations and `quart db check` know it. A search asks with `websearch_to_tsquery` in every
configuration at once (the searcher's language is unknown), ranks with `ts_rank`, newest first
among equals. Searches must use TSVECTOR exactly, or PostgreSQL cannot use the index.
"""
import re

from sqlalchemy import Index, func, literal, literal_column, select, text
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from ..posts.models import Post
from .backend import MAX_RESULTS, Hits, Progress

CONFIGURATIONS = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
# The languages a query is read in: the stemmers a post of a language a user may post in is
# indexed with. More configurations cost more per search; these are langdetect's commonest.
QUERY_CONFIGURATIONS = ("simple", "english", "spanish", "french", "german", "portuguese", "italian",
                        "russian", "dutch")


def _regconfig(name: str):
    return literal_column(f"'{name}'::regconfig", REGCONFIG)


# Written as PostgreSQL writes it back (line breaks and all), so that Alembic sees the index it
# reflects as the one declared here; PostgreSQL itself reads both as the same expression.
POST_CONFIGURATION = literal_column("\nCASE\n" + "".join(
    f"    WHEN language::text = '{code}'::text THEN '{name}'::regconfig\n"
    for code, name in CONFIGURATIONS.items()) + "    ELSE 'simple'::regconfig\nEND", REGCONFIG)
TSVECTOR = func.to_tsvector(POST_CONFIGURATION, literal_column("body::text"))

Index("ix_post_body_tsvector", TSVECTOR, postgresql_using="gin", _table=Post.__table__).ddl_if(dialect="postgresql")

PREFIX = re.compile(r"(?<![\w\"])(\w+)\*")


def ts_query(query: str):
    """The tsquery of what the user typed, in every configuration. Whoosh's `word*` means a prefix:
    kept as one (websearch_to_tsquery has no prefixes)."""
    prefixes = PREFIX.findall(query)
    words = PREFIX.sub(" ", query)
    tsquery = None
    if words.strip():
        for name in QUERY_CONFIGURATIONS:
            one = func.websearch_to_tsquery(_regconfig(name), words)
            tsquery = one if tsquery is None else tsquery.op("||")(one)
    for prefix in prefixes:
        one = func.to_tsquery(_regconfig("simple"), literal(prefix.lower() + ":*"))
        tsquery = one if tsquery is None else tsquery.op("&&")(one)
    return tsquery


class PostgresBackend:
    name = "postgres"
    indexes_by_job = False

    async def search(self, db: AsyncSession, query: str, offset: int, limit: int) -> Hits:
        tsquery = ts_query(query)
        if tsquery is None:
            return Hits()
        matches = TSVECTOR.op("@@")(tsquery)
        rows = (await db.execute(
            select(Post.id, func.count().over())
            .where(matches)
            .order_by(func.ts_rank(TSVECTOR, tsquery).desc(), Post.timestamp.desc(), Post.id.desc())
            .offset(offset).limit(min(limit, MAX_RESULTS - offset)))).all()
        return Hits([row[0] for row in rows], rows[0][1] if rows else 0)

    async def sync(self, db: AsyncSession, post_ids: list[int]) -> None:
        """Nothing to do: PostgreSQL keeps its indexes in step with the table."""

    async def rebuild(self, db: AsyncSession, total: int, progress: Progress) -> None:
        """Nothing to rebuild (the index is always whole); fresh statistics for the planner."""
        await db.execute(text("ANALYZE post"))
        progress(total)
