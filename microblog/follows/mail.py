"""The "you have a new follower" mail.

Queued (with the two ids only) in the transaction of the follow that caused it, so a follow that
rolls back mails nothing; rendered when it is sent, in the recipient's language, from what is true
then. It is not sent (the job ends quietly, logged) when either account is gone, when the follow
was undone meanwhile, or when the recipient turned these mails off. One mail per pair of people a
day at most, however often someone follows, unfollows and follows again; and while one such mail
is waiting to go out (queued or retrying), following again queues none (the job's key).
"""
import logging
from datetime import timedelta

from quart import render_template
from sqlalchemy.ext.asyncio import AsyncSession

from .. import db as database
from .. import jobs
from ..accounts.models import User
from ..avatars import avatar_url
from ..i18n import gettext as _, speaking, user_locale
from ..mail import build_message, job_message_id, limits, send
from ..web import external_url
from .models import is_following

log = logging.getLogger("microblog.mail")

NEW_FOLLOWER = "mail.new_follower"
ONE_PER_PAIR = timedelta(days=1)
AVATAR_SIZE = 64


async def queue_new_follower_mail(db: AsyncSession, follower_id: int, followed_id: int) -> None:
    """Tell the followed about their new follower (staged in the follow's transaction), unless
    they asked not to be told. Listens to events.followed."""
    followed = await db.get(User, followed_id)  # in the session already: no query
    follower = await db.get(User, follower_id)
    # Someone from elsewhere too (their profile here is /user/nick@host); never to them (no mail).
    if followed is not None and followed.notify_new_followers and follower is not None:
        jobs.enqueue(db, NEW_FOLLOWER, {"follower_id": follower_id, "followed_id": followed_id},
                     key=f"{follower_id}:{followed_id}")  # one waiting per pair, however often they click


async def render_new_follower_mail(follower: User, followed: User, message_id: str | None = None):
    """The message, in `followed`'s language, with absolute links (there is no request to be
    relative to)."""
    context = {"follower": follower, "user": followed,
               "profile_url": external_url("profiles.user", nickname=follower.handle),
               "avatar_url": avatar_url(follower, AVATAR_SIZE, external=True),
               "avatar_size": AVATAR_SIZE,
               "settings_url": external_url("profiles.edit_profile")}
    with speaking(user_locale(followed)):
        subject = _("[microblog] %(nickname)s is now following you!", nickname=follower.handle)
        text = await render_template("mail/new_follower.txt", subject=subject, **context)
        html = await render_template("mail/new_follower.html", subject=subject, **context)
    return build_message(subject, [followed.email], text, html, message_id=message_id)


@jobs.handler(NEW_FOLLOWER, concurrency=1)  # as mail.send: a hanging server holds one task
async def _send_new_follower_mail(job: jobs.Job) -> None:
    follower_id, followed_id = job.payload["follower_id"], job.payload["followed_id"]
    async with database.new_session() as db:  # closed before the SMTP server is called
        follower, followed = await db.get(User, follower_id), await db.get(User, followed_id)
        both = follower is not None and followed is not None
        following = both and await is_following(db, follower, followed)
    if not both:
        reason = "an account is gone"
    elif not followed.notify_new_followers:
        reason = "the recipient turned these mails off"
    elif not following:
        reason = "the follow was undone"
    else:
        async with database.separate_transaction() as claims:
            allowed = await limits.claim(claims, f"new-follower:{follower_id}:{followed_id}",
                                         ONE_PER_PAIR, job_id=job.id)
        if allowed is None:
            reason = "one was sent for this pair less than a day ago"
        else:
            await send(await render_new_follower_mail(follower, followed, job_message_id(job)))
            return
    # An ordinary race (unfollowed before the mail went out): of interest when debugging only.
    log.debug("new-follower mail %d->%d not sent: %s", follower_id, followed_id, reason)
