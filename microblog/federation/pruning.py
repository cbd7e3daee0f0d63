"""Forgetting what nobody here needs any longer (a Pi's disk is small): posts from elsewhere whose
author nobody here follows, older than FEDERATION_PRUNE_DAYS, and then people from elsewhere whom
nothing here points at (no follow either way, no request, no post left) and who were last fetched
that long ago. A "federation.prune" job does it in batches, once a day: queued at start, it
queues its next run itself. Its key names the day it is for, so one run a day is queued whatever
the workers and restarts (a restart's run for today and the chain's run for tomorrow meet there)."""
import logging
from datetime import timedelta

from quart import current_app
from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events, jobs
from ..accounts.models import User
from ..db import get_session, utcnow
from ..follows.models import follow_requests, followers
from ..posts.models import Post
from .models import RemoteActor

log = logging.getLogger("microblog.federation")

PRUNE = "federation.prune"
BATCH = 200
DAY = 24 * 3600


def queue_pruning(db: AsyncSession, tomorrow: bool = False, more_of: int | None = None) -> None:
    """Today's run (now), tomorrow's, or the next batch of run `more_of` (at once)."""
    day = int(utcnow().timestamp() // DAY) + (1 if tomorrow else 0)
    key = f"day {day}" + (f" more {more_of}" if more_of is not None else "")
    jobs.enqueue(db, PRUNE, {}, delay=DAY if tomorrow else 0, key=key)


def _followed_here(user_id):
    return exists().where(followers.c.followed_id == user_id)


async def prune_posts(db: AsyncSession, before) -> int:
    """Delete up to BATCH posts from elsewhere, written before `before`, whose author nobody here
    follows (each one's deletion is told, as any post's: search forgets it)."""
    rows = (await db.execute(select(Post.id, Post.user_id).where(
        Post.ap_id.is_not(None), Post.timestamp < before, ~_followed_here(Post.user_id)).limit(BATCH))).all()
    for post_id, author_id in rows:
        await db.execute(delete(Post).where(Post.id == post_id))
        await events.post_deleted.send(db, post_id=post_id, author_id=author_id)
    return len(rows)


async def prune_people(db: AsyncSession, before) -> int:
    """Delete up to BATCH people from elsewhere that nothing here points at any longer."""
    user_id = RemoteActor.user_id
    unused = select(user_id).where(
        RemoteActor.fetched_at < before,
        ~_followed_here(user_id),
        ~exists().where(followers.c.follower_id == user_id),
        ~exists().where(or_(follow_requests.c.follower_id == user_id, follow_requests.c.followed_id == user_id)),
        ~exists().where(and_(Post.user_id == user_id)),
        *(~kept(user_id) for kept in events.people_kept.ask())).limit(BATCH)
    ids = list(await db.scalars(unused))
    if ids:
        await db.execute(delete(User).where(User.id.in_(ids)))  # their keys, picture and record go with them
    return len(ids)


@jobs.handler(PRUNE, attempts=3)
async def _prune(job: jobs.Job) -> None:
    days = current_app.config["FEDERATION_PRUNE_DAYS"]
    if not days:
        return  # switched off since it was queued: the chain ends
    db = get_session()
    before = utcnow() - timedelta(days=days)
    posts = await prune_posts(db, before)
    people = await prune_people(db, before) if posts < BATCH else 0
    if posts or people:
        log.info("pruned %d post(s) and %d person(s) from elsewhere that nobody here follows", posts, people)
    # More to do: again at once (a batch at a time keeps each transaction short); else tomorrow.
    if BATCH in (posts, people):
        queue_pruning(db, more_of=job.id)
    else:
        queue_pruning(db, tomorrow=True)
