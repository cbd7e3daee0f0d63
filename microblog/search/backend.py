"""What every search backend offers (the choice of one is the feature's, in search/__init__.py)."""
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Protocol

from quart import current_app
from sqlalchemy.ext.asyncio import AsyncSession

from .query import Query

# At most this many results are shown (deeper than this nobody reads). PostgreSQL ranks only the
# newest CANDIDATES matches (relevance, then newest), which bounds the work of a search for a word
# found in thousands of posts; so does Whoosh (it may count a few more).
CANDIDATES = MAX_RESULTS = 200


@dataclass
class Hits:
    """Post ids, best first (relevance, then newest), and how many posts match in all."""

    ids: list[int] = field(default_factory=list)
    total: int = 0
    more: bool = False  # True: `total` counts only the newest matches, there are older ones


class SearchUnavailable(Exception):
    """The search cannot be answered now (too many heavy searches at once, an index that failed):
    answered 503 with Retry-After, never a 500."""


class HeavySearches:
    """At most `allowed` heavy searches (with a prefix) at a time in this worker; one more is
    refused at once (SearchUnavailable), rather than waiting in line while more pile up."""

    def __init__(self, allowed: int = 1):
        self._free = threading.BoundedSemaphore(allowed)
        self.refused = 0

    @contextmanager
    def slot(self):
        if not self._free.acquire(blocking=False):
            self.refused += 1
            raise SearchUnavailable()
        try:
            yield
        finally:
            self._free.release()


Progress = Callable[[int], None]  # told how many more posts were indexed


class Backend(Protocol):
    name: str
    # True: the index lives outside the database and follows it through "search.sync" jobs.
    indexes_by_job: bool

    heavy: HeavySearches

    async def search(self, db: AsyncSession, query: Query, offset: int, limit: int) -> Hits:
        """The matching posts in [offset, offset + limit); SearchUnavailable: not now."""

    async def sync(self, db: AsyncSession, post_ids: list[int]) -> None:
        """Make the index agree with the database about these posts (indexed or gone)."""

    async def rebuild(self, db: AsyncSession, total: int, progress: Progress) -> None:
        """The whole index again, from the database."""


def backend() -> Backend:
    return current_app.extensions["search_backend"]
