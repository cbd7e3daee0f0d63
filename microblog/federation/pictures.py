"""The pictures of people from elsewhere, copied here by a job when their actor document names a
new one (`icon`): pages then show them from this site, so a reader's browser never calls other
servers (nothing of who reads what leaks to them) and the Content-Security-Policy keeps
`img-src 'self'`. A picture that is not a PNG, JPEG, GIF or WebP by its own first bytes, or larger
than avatars.PICTURE_MAX, is not kept: the person keeps their identicon."""
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from .. import jobs
from ..accounts.models import User
from ..avatars import PICTURE_MAX, drop_picture, keep_picture
from ..db import get_session
from .fetch import FetchFailed, get
from .domain_blocks import is_blocked
from .models import RemoteActor

log = logging.getLogger("microblog.federation")

COPY = "federation.picture"
ACCEPT = "image/png, image/jpeg, image/gif, image/webp"


def copy_later(db: AsyncSession, user_id: int) -> None:
    """Copy the picture that `user_id`'s actor document names (or drop theirs), as a job."""
    jobs.enqueue(db, COPY, {"user_id": user_id}, key=str(user_id))


@jobs.handler(COPY, attempts=3)
async def _copy(job: jobs.Job) -> None:
    db = get_session()
    user, remote = await db.get(User, job.payload["user_id"]), await db.get(RemoteActor, job.payload["user_id"])
    if user is None or remote is None:
        return
    if remote.icon_url is None:
        await drop_picture(db, user)
        return
    if await is_blocked(db, remote.icon_url):
        raise jobs.Final(f"{remote.icon_url[:200]}: its server is blocked here")
    try:
        data = await get(remote.icon_url, {"Accept": ACCEPT}, PICTURE_MAX)
    except FetchFailed as failure:
        raise jobs.Final(str(failure)) from failure  # the identicon stays; the next Update tries again
    if not await keep_picture(db, user, data):
        raise jobs.Final(f"{remote.icon_url[:200]} is not a PNG, JPEG, GIF or WebP picture")
