"""People here following people elsewhere: the Follow their server is sent (a job), its Accept or
Reject, and the Undo when it is taken back or ended. Follows of people elsewhere are requests
(follows.models.follow_or_request) until their server answers; a locked account may take days,
and the request simply waits."""
import uuid

from quart import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..db import insert_or_ignore
from ..follows.models import answer_request
from .delivery import deliver_to
from .documents import CONTEXT, actor_id, local_user_id
from .models import RemoteActor, SentFollow


async def _remote(db: AsyncSession, follower_id: int, followed_id: int) -> RemoteActor | None:
    """The actor of `followed_id` when someone here (`follower_id`) follows someone elsewhere."""
    remote = await db.get(RemoteActor, followed_id)
    if remote is None or not current_app.config["FEDERATION"]:
        return None
    follower = await db.get(User, follower_id)
    return remote if follower is not None and follower.is_local else None


async def _forget_sent(db: AsyncSession, follower_id: int, followed_id: int) -> None:
    """The Follow sent for this pair stands no longer (a new one replaces it, or it was undone or rejected)."""
    await db.execute(delete(SentFollow).where(SentFollow.follower_id == follower_id,
                                              SentFollow.followed_id == followed_id))


async def send_follow(db: AsyncSession, follower_id: int, followed_id: int) -> None:
    """A Follow to their server (listens to events.follow_requested). Its id is new each time: a
    server that remembers the ids it has seen would take a second Follow for a copy of the first."""
    remote = await _remote(db, follower_id, followed_id)
    if remote is None:
        return
    me = actor_id(follower_id)
    follow_id = f"{me}#follows/{followed_id}/{uuid.uuid4().hex}"
    await _forget_sent(db, follower_id, followed_id)
    await db.execute(insert_or_ignore(db, SentFollow).values(follower_id=follower_id, followed_id=followed_id,
                                                             activity_id=follow_id))
    deliver_to(db, remote.inbox, {"@context": CONTEXT[0], "id": follow_id, "type": "Follow", "actor": me,
                                  "object": remote.actor_id}, follower_id)


async def send_undo(db: AsyncSession, follower_id: int, followed_id: int) -> None:
    """An Undo of the Follow (listens to events.unfollowed and events.follow_request_withdrawn)."""
    remote = await _remote(db, follower_id, followed_id)
    if remote is None:
        return
    sent = await db.scalar(select(SentFollow.activity_id).where(SentFollow.follower_id == follower_id,
                                                               SentFollow.followed_id == followed_id))
    if sent is None:
        return  # they ended it (Reject): nothing of ours stands
    await _forget_sent(db, follower_id, followed_id)
    me = actor_id(follower_id)
    deliver_to(db, remote.inbox, {"@context": CONTEXT[0], "id": f"{sent}/undo", "type": "Undo", "actor": me,
                                  "object": {"id": sent, "type": "Follow", "actor": me, "object": remote.actor_id}},
               follower_id)


async def on_answer(db: AsyncSession, activity: dict, actor: str) -> None:
    """Accept or Reject of a Follow we sent, from the one it was sent to. Servers name the Follow
    by its id, or send it whole (some with an id of their own): either is matched."""
    answered = activity.get("object")
    follow_id = answered.get("id") if isinstance(answered, dict) else answered
    follower_id = None
    if isinstance(answered, dict) and isinstance(answered.get("actor"), str):
        follower_id = local_user_id(answered["actor"])
    followed = await db.scalar(select(RemoteActor).where(RemoteActor.actor_id == actor))
    if followed is None:
        return
    named = ([SentFollow.activity_id == follow_id] if isinstance(follow_id, str) else []) + (
        [SentFollow.follower_id == follower_id] if follower_id is not None else [])
    sent = named and await db.scalar(select(SentFollow).where(SentFollow.followed_id == followed.user_id, or_(*named)))
    if not sent:
        return
    follower, them = await db.get_one(User, sent.follower_id), await db.get_one(User, followed.user_id)
    accepted = activity.get("type") == "Accept"
    if not accepted:
        await _forget_sent(db, sent.follower_id, sent.followed_id)
    await answer_request(db, follower, them, accepted)
