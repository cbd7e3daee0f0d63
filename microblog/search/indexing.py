"""Keeping the index in step: a "search.sync" job, queued in the transaction that publishes,
updates or deletes a post (events.post_published, post_updated, post_deleted). The job makes the index agree with the database about that post, whatever
happened in between (so jobs of one post may run in any order, or twice)."""
from sqlalchemy.ext.asyncio import AsyncSession

from .. import jobs
from ..db import get_session
from .backend import backend

SYNC = "search.sync"


def queue_sync(db: AsyncSession, post_id: int, **_ids: int) -> None:
    """Listens to events.post_published, post_updated and post_deleted, in the post's own transaction."""
    if backend().indexes_by_job:
        jobs.enqueue(db, SYNC, {"post_id": post_id})


@jobs.handler(SYNC)
async def _sync(job: jobs.Job) -> None:
    await backend().sync(get_session(), [int(job.payload["post_id"])])
