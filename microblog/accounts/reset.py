"""Password reset: the signed token of the link, and the mail that carries it, a job of its own.

The token signs the user's id and their password's fingerprint with SECRET_KEY (a changed
password spends every link made before), dated when the reset was asked for: a link is valid
RESET_TOKEN_MAX_AGE after the request, however late its mail went out.

The job ("mail.reset_password") holds whom and when, never the link: rows stay in the job table
for days, and anyone reading it could have used the links in it. The mail is rendered when it is
sent, in the recipient's language (else the asker's); one that could only go out after its link
expired is not sent.
"""
import logging
from datetime import datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer
from quart import current_app, render_template, request

from .. import clock, jobs
from .. import db as database
from ..db import get_session
from ..i18n import current_locale_code, gettext as _, speaking, user_locale
from ..mail import build_message, job_message_id, send
from .models import User
from .throttle import RESET_EMAIL, Throttle, reset_mails_per_day

log = logging.getLogger("microblog.mail")

RESET_MAIL = "mail.reset_password"


class _SignedAt(clock.Signer):
    """Signs as of `signed_at` (the request), whenever the token is made."""

    def __init__(self, *args, signed_at: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.signed_at = signed_at

    def get_timestamp(self) -> int:
        return self.signed_at


def _serializer(signed_at: datetime | None = None) -> URLSafeTimedSerializer:
    secret = current_app.config["SECRET_KEY"]
    if signed_at is None:
        return URLSafeTimedSerializer(secret, salt="reset-password", signer=clock.Signer)
    return URLSafeTimedSerializer(secret, salt="reset-password", signer=_SignedAt,
                                  signer_kwargs={"signed_at": int(signed_at.timestamp())})


def make_reset_token(user: User, requested_at: datetime | None = None) -> str:
    """The token of a reset link for `user`, valid RESET_TOKEN_MAX_AGE from `requested_at` (now)."""
    return _serializer(requested_at or clock.now()).dumps({"id": user.id, "pw": user.password_fingerprint})


async def user_from_reset_token(token: str) -> User | None:
    """The user a valid, unexpired, unspent token names, else None."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["RESET_TOKEN_MAX_AGE"])
        user = await get_session().get(User, int(data["id"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if user is None or data.get("pw") != user.password_fingerprint:
        return None
    return user


async def reset_mail_allowed(email: str) -> bool:
    """One more reset mail for `email` (counted, whether or not the address is known), or False:
    however often it is asked, an address gets a few mails, then one now and then, and at most
    RESET_MAILS_PER_DAY a day however the requests are spread."""
    for policy in (RESET_EMAIL, reset_mails_per_day()):
        if await Throttle.take(Throttle.key_for(policy.kind, email), policy):
            return False
    return True


def queue_reset_mail(db, user: User) -> None:
    """The reset mail for `user`, a job committed with the request (sent by the job runner)."""
    payload = {"user_id": user.id, "requested_at": clock.now().isoformat(), "locale": current_locale_code()}
    if not current_app.config["BASE_URL"]:  # development only: the address the request named
        payload["site"] = request.root_url.rstrip("/")
    jobs.enqueue(db, RESET_MAIL, payload)


async def render_reset_mail(user: User, requested_at: datetime, payload: dict, message_id: str | None = None):
    """The message, its link made now and valid RESET_TOKEN_MAX_AGE from `requested_at`."""
    token = make_reset_token(user, requested_at)
    site = current_app.config["BASE_URL"] or payload.get("site", "")
    link = site + current_app.url_map.bind("").build("accounts.reset_password", {"token": token})
    with speaking(user_locale(user, default=payload.get("locale"))):  # theirs, else the asker's
        subject = _("[microblog] Reset your password")
        text = await render_template("accounts/email/reset_password.txt", user=user, link=link)
        html = await render_template("accounts/email/reset_password.html", user=user, link=link)
    return build_message(subject, [user.email], text, html, message_id=message_id)


@jobs.handler(RESET_MAIL, concurrency=1)  # as the other mail: a hanging server holds one task
async def _send_reset_mail(job: jobs.Job) -> None:
    payload = job.payload
    requested_at = datetime.fromisoformat(payload["requested_at"])
    async with database.new_session() as db:  # closed before the SMTP server is called
        user = await db.get(User, payload["user_id"])
    if user is None:
        reason = "the account is gone"
    elif (clock.now() - requested_at).total_seconds() > current_app.config["RESET_TOKEN_MAX_AGE"]:
        reason = "its link expired before it could go out"
    else:
        await send(await render_reset_mail(user, requested_at, payload, job_message_id(job)))
        return
    log.info("reset mail for user %d (asked %s) not sent: %s", payload["user_id"], payload["requested_at"], reason)
