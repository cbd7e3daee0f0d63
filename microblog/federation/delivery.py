"""Sending to other servers: one job per (activity, inbox), signed by the person it is from,
retried for days as Mastodon does (about count⁴ + 15 s, 16 tries: two to three days), never
retried for an answer no retry mends (4xx but 401, 408 and 429), and no sooner than a 429's
Retry-After. An activity goes once to each server's shared inbox, else to each person's inbox.

The activity is built when the job is queued, in the transaction of what it reports (a post, a
follow accepted): what was true then is what the other servers are told."""
import logging

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import jobs
from ..accounts.models import User
from ..db import get_session
from ..follows.models import followers
from ..posts.models import Post
from ..web import external_url
from . import documents
from .documents import actor_id, key_id
from .fetch import FetchFailed, signed_post
from .keys import key_of
from .models import RemoteActor

log = logging.getLogger("microblog.federation")

DELIVER = "federation.deliver"
ATTEMPTS = 16
FINAL_4XX_BUT = {401, 408, 429}


def deliver_to(db: AsyncSession, inbox: str, activity: dict, sender_id: int) -> None:
    """Queue `activity`, signed by local user `sender_id`, for one inbox."""
    jobs.enqueue(db, DELIVER, {"inbox": inbox, "activity": activity, "sender_id": sender_id},
                 key=f"{activity.get('id')} {inbox}")


async def follower_inboxes(db: AsyncSession, user_id: int) -> list[str]:
    """Where to send what `user_id` publishes: each remote follower's server once (its shared
    inbox), else each follower's own inbox."""
    rows = await db.execute(select(RemoteActor.shared_inbox, RemoteActor.inbox)
                            .join(followers, followers.c.follower_id == RemoteActor.user_id)
                            .where(followers.c.followed_id == user_id))
    return sorted({shared or own for shared, own in rows})


def retry_delay(attempt: int) -> float:
    return attempt ** 4 + 15


@jobs.handler(DELIVER, attempts=ATTEMPTS, max_delay=3 * 24 * 3600, concurrency=4)
async def _deliver(job: jobs.Job) -> None:
    payload = job.payload
    key = await key_of(get_session(), payload["sender_id"])
    try:
        response = await signed_post(payload["inbox"], payload["activity"], key_id(actor_id(payload["sender_id"])),
                                     key.private_key_pem)
    except FetchFailed as failure:
        raise jobs.Final(str(failure)) from failure  # not an address we may call
    except httpx.HTTPError as error:
        raise jobs.RetryAfter(retry_delay(job.attempts)) from error
    if response.is_success:
        return
    status = response.status_code
    if 400 <= status < 500 and status not in FINAL_4XX_BUT:
        raise jobs.Final(f"{payload['inbox'][:200]} answered {status}")
    wait = response.headers.get("Retry-After", "")
    raise jobs.RetryAfter(max(float(wait) if wait.isdigit() else 0, retry_delay(job.attempts)))


async def send_post(db: AsyncSession, post_id: int, author_id: int) -> None:
    """A new post, to the servers of its author's followers elsewhere (listens to
    events.post_published)."""
    inboxes = await follower_inboxes(db, author_id)
    if inboxes:
        post, author = await db.get_one(Post, post_id), await db.get_one(User, author_id)
        activity = documents.create(post, author)
        for inbox in inboxes:
            deliver_to(db, inbox, activity, author_id)


async def send_deletion(db: AsyncSession, post_id: int, author_id: int) -> None:
    """A deleted post, to the same servers (listens to events.post_deleted)."""
    inboxes = await follower_inboxes(db, author_id)
    if not inboxes:
        return
    url = external_url("posts.show", post_id=post_id)
    activity = {"@context": documents.CONTEXT[0], "id": f"{url}#delete", "type": "Delete",
                "actor": actor_id(author_id), "to": [documents.AS_PUBLIC],
                "object": {"id": url, "type": "Tombstone"}}
    for inbox in inboxes:
        deliver_to(db, inbox, activity, author_id)
