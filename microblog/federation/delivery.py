"""Sending to other servers, as jobs that never hold a request open.

What a person publishes (a post, its deletion, a changed profile) is one fan-out job written in
the transaction of the change; that job writes one delivery job per destination: each server's
shared inbox once, else each follower's own inbox, skipping servers that have been failing for
days (RemoteHost). A delivery is signed by the person it is from and retried for days as
Mastodon does (about count⁴ + 15 s, 16 tries: two to three days), never retried for an answer no
retry mends (4xx but 401, 408 and 429: 404 and 410 are final), and no sooner than a 429's
Retry-After. Nothing goes to a server the operator blocked (domain_blocks.py): a delivery queued
before the block ends as final when its job runs. What a Follow needs (the Accept) goes straight to its inbox, whatever the server's
record.

An activity is built when its job is queued, in the transaction of what it reports: what was true
then is what the other servers are told."""
import logging
from urllib.parse import urlsplit

import httpx
from quart import current_app
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import db as database
from .. import jobs
from ..accounts.models import User
from ..db import get_session, insert_or_ignore, utcnow
from ..follows.models import followers
from ..posts.models import Post
from ..web import external_url
from . import documents
from .documents import actor_id, key_id
from .domain_blocks import blocked_domains, covering, domain_of_url, is_blocked
from .fetch import FetchFailed, signed_post
from .keys import key_of
from .models import RemoteActor, RemoteHost

log = logging.getLogger("microblog.federation")

FAN_OUT = "federation.fan_out"
DELIVER = "federation.deliver"
ATTEMPTS = 16
FINAL_4XX_BUT = {401, 408, 429}
UNAVAILABLE_AFTER_DAYS = 7


def deliver_to(db: AsyncSession, inbox: str, activity: dict, sender_id: int) -> None:
    """Queue `activity`, signed by local user `sender_id`, for one inbox."""
    jobs.enqueue(db, DELIVER, {"inbox": inbox, "activity": activity, "sender_id": sender_id},
                 key=f"{activity.get('id')} {inbox}")


def fan_out(db: AsyncSession, activity: dict, sender_id: int) -> None:
    """Queue `activity` for every server where `sender_id` has followers (one job, here)."""
    jobs.enqueue(db, FAN_OUT, {"activity": activity, "sender_id": sender_id}, key=activity.get("id"))


async def follower_inboxes(db: AsyncSession, user_id: int) -> list[str]:
    """Where to send what `user_id` publishes: each remote follower's server once (its shared
    inbox), else each follower's own inbox; not to servers marked unavailable, nor to servers
    blocked here (their people follow no one here: a shared inbox may be on another host)."""
    rows = await db.execute(select(RemoteActor.shared_inbox, RemoteActor.inbox)
                            .join(followers, followers.c.follower_id == RemoteActor.user_id)
                            .where(followers.c.followed_id == user_id))
    inboxes = {shared or own for shared, own in rows}
    if not inboxes:
        return []
    dead = set(await db.scalars(select(RemoteHost.host).where(RemoteHost.unavailable.is_(True))))
    blocked = {block.domain for block in await blocked_domains(db)}
    return sorted(inbox for inbox in inboxes if host_of(inbox) not in dead
                  and not blocked.intersection(covering(domain_of_url(inbox) or "")))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


async def has_remote_followers(db: AsyncSession, user_id: int) -> bool:
    return await db.scalar(select(followers.c.follower_id).join(RemoteActor, RemoteActor.user_id == followers.c.follower_id)
                           .where(followers.c.followed_id == user_id).limit(1)) is not None


@jobs.handler(FAN_OUT, attempts=5)
async def _fan_out(job: jobs.Job) -> None:
    db = get_session()
    for inbox in await follower_inboxes(db, job.payload["sender_id"]):
        deliver_to(db, inbox, job.payload["activity"], job.payload["sender_id"])


# --- how each server has been answering -------------------------------------------------------

async def heard_from(host: str) -> None:
    """`host` answered or wrote to us: deliver to it again."""
    async with database.new_session() as db:  # a read first: nearly always there is nothing to clear
        if await db.scalar(select(RemoteHost.host).where(RemoteHost.host == host, RemoteHost.failure_days > 0)) is None:
            return
    async with database.separate_transaction() as db:
        await db.execute(update(RemoteHost).where(RemoteHost.host == host, RemoteHost.failure_days > 0)
                         .values(failure_days=0, unavailable=False, last_failure=None))


async def failed_at(host: str) -> None:
    """A delivery to `host` failed: one more day of failures if the last was on another day."""
    now = utcnow()
    async with database.separate_transaction() as db:
        await db.execute(insert_or_ignore(db, RemoteHost).values(host=host, failure_days=0, unavailable=False))
        record = await db.get_one(RemoteHost, host, with_for_update=db.bind.dialect.name != "sqlite")
        if record.last_failure is None or record.last_failure.date() != now.date():
            record.failure_days += 1
        record.last_failure = now
        record.unavailable = record.failure_days >= UNAVAILABLE_AFTER_DAYS
        if record.unavailable:
            log.warning("%s has failed on %d days: deliveries to it stop until it answers", host, record.failure_days)


def retry_delay(attempt: int) -> float:
    return attempt ** 4 + 15


@jobs.handler(DELIVER, attempts=ATTEMPTS, max_delay=3 * 24 * 3600, concurrency=4)
async def _deliver(job: jobs.Job) -> None:
    payload = job.payload
    host = host_of(payload["inbox"])
    db = get_session()
    if await is_blocked(db, payload["inbox"]):
        raise jobs.Final(f"{host} is blocked here")  # queued before the block: never sent
    key = await key_of(db, payload["sender_id"])
    await database.commit(db)  # a key just made is kept; no transaction stays open while we wait
    try:
        response = await signed_post(payload["inbox"], payload["activity"], key_id(actor_id(payload["sender_id"])),
                                     key.private_key_pem)
    except FetchFailed as failure:
        raise jobs.Final(str(failure)) from failure  # not an address we may call
    except httpx.HTTPError as error:
        await failed_at(host)
        raise jobs.RetryAfter(retry_delay(job.attempts), f"{host}: {error or type(error).__name__}") from error
    status = response.status_code
    if response.is_success:
        await heard_from(host)
        return
    if 400 <= status < 500 and status not in FINAL_4XX_BUT:
        await heard_from(host)  # it answers: it is alive
        raise jobs.Final(f"{payload['inbox'][:200]} answered {status}")
    await failed_at(host)
    wait = response.headers.get("Retry-After", "")
    raise jobs.RetryAfter(max(float(wait) if wait.isdigit() else 0, retry_delay(job.attempts)),
                          f"{payload['inbox'][:200]} answered {status}")


# --- what people here publish (listeners) -----------------------------------------------------

async def send_post(db: AsyncSession, post_id: int, author_id: int) -> None:
    """A new post, to its author's followers elsewhere (listens to events.post_published); a post
    from elsewhere is its own server's to send, never ours."""
    if not current_app.config["FEDERATION"]:
        return
    post = await db.get_one(Post, post_id)  # published a moment ago: from the session, no query
    if not post.from_elsewhere and await has_remote_followers(db, author_id):
        fan_out(db, documents.create(post, await db.get_one(User, author_id)), author_id)


async def send_deletion(db: AsyncSession, post_id: int, author_id: int) -> None:
    """A deleted post, to the same servers (listens to events.post_deleted); nothing for a post
    from elsewhere (its author deleted it there)."""
    if not current_app.config["FEDERATION"] or not (await db.get_one(User, author_id)).is_local:
        return
    if await has_remote_followers(db, author_id):
        url = external_url("posts.show", post_id=post_id)
        fan_out(db, {"@context": documents.CONTEXT[0], "id": f"{url}#delete", "type": "Delete",
                     "actor": actor_id(author_id), "to": [documents.AS_PUBLIC],
                     "object": {"id": url, "type": "Tombstone"}}, author_id)


async def send_profile(db: AsyncSession, user_id: int) -> None:
    """A changed profile, as an Update of the Person (listens to events.profile_updated)."""
    if current_app.config["FEDERATION"] and await has_remote_followers(db, user_id):
        person = await documents.person_of(db, await db.get_one(User, user_id))
        fan_out(db, {"@context": documents.CONTEXT, "id": f"{person['id']}#updates/{int(utcnow().timestamp())}",
                     "type": "Update", "actor": person["id"], "to": [documents.AS_PUBLIC], "object": person}, user_id)
