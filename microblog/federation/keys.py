"""Key pairs: an RSA-2048 pair for each person here and one for the site (the instance actor).

Making one takes about 50 ms here (more on a Pi), so it runs in a thread, off the event loop: by
a job queued at registration, by a job that gives existing accounts theirs, and otherwise the
first time a key is needed (an actor document, a delivery). Two workers making the same person's
key at once both insert-or-ignore: the first one kept is everyone's. Tests swap `make_key_pair`
for ready-made keys (tests/ready_keys.py)."""
import asyncio

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from quart import current_app
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import jobs
from ..accounts.models import User
from ..db import get_session, insert_or_ignore
from .models import ActorKey, InstanceKey

KEY_PAIR = "federation.key_pair"
BACKFILL_BATCH = 50


def make_key_pair() -> tuple[str, str]:
    """(private key, public key), PEM: PKCS#8 and SubjectPublicKeyInfo, as Mastodon reads them."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


async def key_of(db: AsyncSession, user_id: int) -> ActorKey:
    """The key pair of a person here, made now if they have none yet."""
    return await _kept_or_made(db, ActorKey, user_id, user_id=user_id)


async def instance_key(db: AsyncSession) -> InstanceKey:
    """The site's own key pair (the instance actor's), made the first time it is needed."""
    return await _kept_or_made(db, InstanceKey, 1, id=1)


async def _kept_or_made(db: AsyncSession, model, primary_key: int, **row):
    found = await db.get(model, primary_key)
    if found is None:
        private, public = await asyncio.to_thread(make_key_pair)
        await db.execute(insert_or_ignore(db, model).values(**row, public_key_pem=public, private_key_pem=private))
        found = await db.get_one(model, primary_key, populate_existing=True)
    return found


def queue_key_pair(db: AsyncSession, user_id: int) -> None:
    """A new account's keys, made by a job (listens to events.account_registered)."""
    if not current_app.config["FEDERATION"]:
        return  # made when first needed, if federation is ever turned on
    jobs.enqueue(db, KEY_PAIR, {"user_id": user_id}, key=str(user_id))


async def accounts_without_keys(db: AsyncSession, limit: int = BACKFILL_BATCH) -> list[int]:
    return list(await db.scalars(
        select(User.id).outerjoin(ActorKey, ActorKey.user_id == User.id)
        .where(User.domain == "", ActorKey.user_id.is_(None)).order_by(User.id).limit(limit)))


@jobs.handler(KEY_PAIR, attempts=5)
async def _make_keys(job: jobs.Job) -> None:
    """One account's keys (`user_id`), or, without one, those of up to a batch of accounts that
    have none (made before federation), queueing itself again while some are left. Committed
    with the job."""
    db = get_session()
    if "user_id" in job.payload:
        if await db.get(User, job.payload["user_id"]) is not None:
            await key_of(db, job.payload["user_id"])
        return
    waiting = await accounts_without_keys(db)
    for user_id in waiting:
        await key_of(db, user_id)
    if len(waiting) == BACKFILL_BATCH:
        jobs.enqueue(db, KEY_PAIR, {}, key=f"backfill-after-{waiting[-1]}")
