"""What other servers' activities do here, run as jobs (`federation.inbox`) after the inbox has
checked who sent them. Handled: Follow of a person here (accepted at once, Accept sent back; a
Reject instead while they block the follower or hide its server),
Undo of that Follow, Delete and Update of a remote actor by itself; Create, Update and Delete of
a Note by its author (notes.py: posts from elsewhere). Anything else is accepted and dropped
quietly (likes, boosts and the rest come with later features)."""
import uuid

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from .. import jobs
from ..accounts.models import User
from ..db import get_session
from ..follows.models import FollowRefused, follow, unfollow
from . import following, notes
from .delivery import deliver_to, heard_from, host_of
from .documents import CONTEXT, actor_id as local_actor_id, local_user_id
from .fetch import FetchFailed
from .models import RemoteActor
from .remote import actor_by_id, parse_actor, remember

INBOX = "federation.inbox"


def id_of(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


async def local_person(db: AsyncSession, url: str | None) -> User | None:
    """The person here whose actor id is `url`."""
    user_id = local_user_id(url)
    user = await db.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.is_local else None


async def on_follow(db: AsyncSession, activity: dict, actor: str) -> None:
    """Accepted at once; Rejected while something stands between them (events.follow_refused:
    the person here blocks them, or hides their server)."""
    followed = await local_person(db, id_of(activity.get("object")))
    if followed is None:
        return
    follower = await actor_by_id(db, actor)
    try:
        await follow(db, follower, followed)  # a second Follow changes nothing, and is accepted again
        answer = "Accept"
    except FollowRefused:
        answer = "Reject"
    me = local_actor_id(followed.id)
    remote = await db.get_one(RemoteActor, follower.id)
    # An id of its own each time: Fedify skips an activity id it has seen within a day, so the
    # Accept of a second Follow (after an unfollow) with the first one's id would be lost.
    deliver_to(db, remote.inbox, {
        "@context": CONTEXT[0], "id": f"{me}#{answer.lower()}s/follows/{follower.id}/{uuid.uuid4().hex}",
        "type": answer, "actor": me,
        "object": {k: activity[k] for k in ("id", "type", "actor", "object") if k in activity}}, followed.id)


async def on_undo(db: AsyncSession, activity: dict, actor: str) -> None:
    undone = activity.get("object")
    if not isinstance(undone, dict) or undone.get("type") != "Follow" or id_of(undone.get("actor")) != actor:
        return
    followed = await local_person(db, id_of(undone.get("object")))
    follower = await actor_by_id(db, actor, fetch=False)
    if followed is not None and follower is not None:
        await unfollow(db, follower, followed)


async def on_delete(db: AsyncSession, activity: dict, actor: str) -> None:
    if id_of(activity.get("object")) != actor:
        return await notes.on_delete(db, activity, actor)  # a post's deletion
    gone = await actor_by_id(db, actor, fetch=False)
    if gone is not None:
        await db.execute(delete(User).where(User.id == gone.id))  # their follows go with them (cascade)


async def on_update(db: AsyncSession, activity: dict, actor: str) -> None:
    updated = activity.get("object")
    if isinstance(updated, dict) and updated.get("type") in notes.NOTE_TYPES:
        return await notes.on_update(db, activity, actor)
    if not isinstance(updated, dict) or id_of(updated) != actor:
        return
    if await actor_by_id(db, actor, fetch=False) is not None:
        await remember(db, parse_actor(updated, actor))


HANDLERS = {"Follow": on_follow, "Undo": on_undo, "Delete": on_delete, "Update": on_update, "Create": notes.on_create,
            "Accept": following.on_answer, "Reject": following.on_answer}


@jobs.handler(INBOX, attempts=8, max_delay=6 * 3600)
async def _handle(job: jobs.Job) -> None:
    activity = job.payload["activity"]
    kind = activity.get("type")
    handle = HANDLERS.get(kind) if isinstance(kind, str) else None
    if handle is None:
        return
    await heard_from(host_of(id_of(activity.get("actor")) or ""))  # alive: deliver to it again
    try:
        await handle(get_session(), activity, id_of(activity.get("actor")))
    except FetchFailed as failure:
        raise jobs.RetryAfter(60, str(failure)) from failure  # their server may answer later
    except (TypeError, ValueError, AttributeError) as error:
        # A value of a shape no server should send (a list for a name, a number for an id):
        # trying again changes nothing.
        raise jobs.Final(f"{kind} {str(activity.get('id'))[:200]} is malformed: {error}") from error
