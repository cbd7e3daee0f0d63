"""People here blocking people elsewhere: their server is sent a Block (Mastodon then ends their
follows and keeps the blocker's posts from them), and an Undo of it when they are unblocked. The
follows the block ended have had their own Undo already (events.unfollowed, following.py); a
Follow from someone blocked is answered with a Reject (activities.on_follow)."""
import uuid

from quart import current_app
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from .delivery import deliver_to
from .documents import CONTEXT, actor_id
from .models import RemoteActor


async def _remote(db: AsyncSession, blocker_id: int, blocked_id: int) -> RemoteActor | None:
    """The actor of `blocked_id` when someone here blocks someone elsewhere."""
    if not current_app.config["FEDERATION"]:
        return None
    remote = await db.get(RemoteActor, blocked_id)
    blocker = await db.get(User, blocker_id)
    return remote if remote is not None and blocker is not None and blocker.is_local else None


def _block(blocker_id: int, remote: RemoteActor) -> dict:
    me = actor_id(blocker_id)
    return {"id": f"{me}#blocks/{remote.user_id}/{uuid.uuid4().hex}", "type": "Block", "actor": me,
            "object": remote.actor_id}


async def send_block(db: AsyncSession, blocker_id: int, blocked_id: int) -> None:
    """A Block to their server (listens to events.blocked)."""
    remote = await _remote(db, blocker_id, blocked_id)
    if remote is not None:
        deliver_to(db, remote.inbox, {"@context": CONTEXT[0], **_block(blocker_id, remote)}, blocker_id)


async def send_undo_block(db: AsyncSession, blocker_id: int, blocked_id: int) -> None:
    """An Undo of the Block (listens to events.unblocked). Servers find the block it undoes by
    who blocked whom (Mastodon does), so the Block is named by its actor and object."""
    remote = await _remote(db, blocker_id, blocked_id)
    if remote is None:
        return
    block = _block(blocker_id, remote)
    deliver_to(db, remote.inbox, {"@context": CONTEXT[0], "id": f"{block['id']}/undo", "type": "Undo",
                                  "actor": block["actor"], "object": block}, blocker_id)
