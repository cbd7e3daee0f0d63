"""What every search backend offers (the choice of one is the feature's, in search/__init__.py)."""
from dataclasses import dataclass, field
from typing import Callable, Protocol

from quart import current_app
from sqlalchemy.ext.asyncio import AsyncSession

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


Progress = Callable[[int], None]  # told how many more posts were indexed


class Backend(Protocol):
    name: str
    # True: the index lives outside the database and follows it through "search.sync" jobs.
    indexes_by_job: bool

    async def search(self, db: AsyncSession, query: str, offset: int, limit: int) -> Hits:
        """The matching posts in [offset, offset + limit); a query it cannot read finds nothing."""

    async def sync(self, db: AsyncSession, post_ids: list[int]) -> None:
        """Make the index agree with the database about these posts (indexed or gone)."""

    async def rebuild(self, db: AsyncSession, total: int, progress: Progress) -> None:
        """The whole index again, from the database."""


def backend() -> Backend:
    return current_app.extensions["search_backend"]
