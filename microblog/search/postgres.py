"""PostgreSQL full-text search: no index to keep in step, the database is the index.

A GIN index on the post's words, stemmed with the text search configuration of its language
(`simple` when PostgreSQL has none, or the language is unknown), declared here on the post table so
that migrations and `quart db check` know it. A search is read by query.py's grammar, written as
a tsquery (`tsquery_text`), asked in several configurations at once (the searcher's language is
unknown) and ranked with `ts_rank`, newest first among equals. Searches must use TSVECTOR exactly,
or PostgreSQL cannot use the index.
"""

from contextlib import nullcontext

from sqlalchemy import Index, func, literal_column, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from ..posts.models import PUBLIC, Post
from .backend import CANDIDATES, HeavySearches, Hits, Progress
from .query import Phrase, Query

CONFIGURATIONS = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
# The configurations a query is read in (more cost more per search): langdetect's commonest.
QUERY_CONFIGURATIONS = ("simple", "english", "spanish", "french", "german", "portuguese", "italian",
                        "russian", "dutch")

# Written as PostgreSQL writes it back (line breaks and all), so that Alembic sees the index it
# reflects as the one declared here; PostgreSQL itself reads both as the same expression.
POST_CONFIGURATION = literal_column("\nCASE\n" + "".join(
    f"    WHEN language::text = '{code}'::text THEN '{name}'::regconfig\n"
    for code, name in CONFIGURATIONS.items()) + "    ELSE 'simple'::regconfig\nEND", REGCONFIG)
TSVECTOR = func.to_tsvector(POST_CONFIGURATION, literal_column("body::text"))

Index("ix_post_body_tsvector", TSVECTOR, postgresql_using="gin", _table=Post.__table__).ddl_if(dialect="postgresql")

_VECTOR_SQL = str(TSVECTOR.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
_CONFIGURATIONS_SQL = ", ".join(f"'{name}'" for name in QUERY_CONFIGURATIONS)

# The query in each configuration, duplicates dropped ("book" is 'book' in most of them: the
# planner would count each copy as more matches and walk the whole timestamp index instead of the
# GIN one), and so are those left with nothing to look for (`querytree` is 'T': its words were stop
# words in that configuration, only an exclusion is left, and that would read every post). Only the
# newest CANDIDATES matches are ranked: ts_rank computes a post's words again, and a word in
# 25,000 posts would cost a second. Public posts only: a followers-only post from elsewhere is
# never a result.
SEARCH_SQL = text(f"""
WITH query AS MATERIALIZED (
  SELECT string_agg(DISTINCT '(' || one::text || ')', ' | ')::tsquery AS tsquery
  FROM (SELECT to_tsquery(name::regconfig, :query) AS one
        FROM unnest(ARRAY[{_CONFIGURATIONS_SQL}]) AS name) AS each_configuration
  WHERE numnode(one) > 0 AND querytree(one) <> 'T'),
matches AS MATERIALIZED (
  SELECT post.id, post.timestamp FROM post, query
  WHERE {_VECTOR_SQL} @@ query.tsquery AND post.visibility = '{PUBLIC}'),
newest AS (SELECT id FROM matches ORDER BY timestamp DESC, id DESC LIMIT :candidates)
SELECT post.id, (SELECT count(*) FROM matches) AS total
FROM post JOIN newest ON newest.id = post.id, query
ORDER BY ts_rank({_VECTOR_SQL}, query.tsquery) DESC, post.timestamp DESC, post.id DESC
OFFSET :offset LIMIT :limit
""")


def tsquery_text(query: Query) -> str:
    """The query as to_tsquery reads it: 'word', 'prefix':*, 'two' <-> 'words', OR as |, AND as &,
    an exclusion as !. The grammar's words are letters, digits and _ only: quoting them is enough."""
    def item(found) -> str:
        if isinstance(found, Phrase):
            return " <-> ".join(f"'{word}'" for word in found.words)
        return f"'{found.text}'" + (":*" if found.prefix else "")

    groups = ["(" + " | ".join(item(found) for found in group) + ")" for group in query.groups]
    return " & ".join(groups + [f"!'{word}'" for word in query.excluded])


class PostgresBackend:
    name = "postgres"
    indexes_by_job = False

    def __init__(self):
        self.heavy = HeavySearches()

    async def search(self, db: AsyncSession, query: Query, offset: int, limit: int) -> Hits:
        if offset >= CANDIDATES or not query.groups:
            return Hits()
        # A prefix reads every word of the index beginning with it: one such search at a time.
        with self.heavy.slot() if query.heavy else nullcontext():
            rows = (await db.execute(SEARCH_SQL, {
                "query": tsquery_text(query), "candidates": CANDIDATES, "offset": offset,
                "limit": min(limit, CANDIDATES - offset)})).all()
        return Hits([row.id for row in rows], rows[0].total if rows else 0)

    async def sync(self, db: AsyncSession, post_ids: list[int]) -> None:
        """Nothing to do: PostgreSQL keeps its indexes in step with the table."""

    async def rebuild(self, db: AsyncSession, total: int, progress: Progress) -> None:
        """Nothing to rebuild (the index is always whole); fresh statistics for the planner."""
        await db.execute(text("ANALYZE post"))
        progress(total)
