"""What other servers send: POST /inbox (shared) and /users/<id>/inbox.

A delivery from a server the operator blocked is answered 403 before any other work (no signature
checked, no key fetched: domain_blocks.py). Any other is checked before anything is kept: its type and size (the site's MAX_BODY_BYTES), its
HTTP signature (401 when missing or wrong, so a sender that tries one scheme first falls back to
the other), and that the signer is the activity's actor. It is then stored as a job and answered
202; the job does the work. A server with FEDERATION_INBOX_QUEUE_PER_HOST activities waiting gets
429 and a Retry-After: a flood queues within bounds, it does not slow pages. A copy that arrives while the first waits is not queued again (the
job's key is the activity id); one that comes later is handled again, harmlessly (handlers are
idempotent). A Delete of an actor we never knew, about
itself, is answered 202 with no work and no fetch: servers announce every account's deletion to
everyone (Mastodon does this)."""
import hashlib
import json
import logging
from urllib.parse import urlsplit

from quart import Blueprint, Response, current_app, request
from sqlalchemy import func, select

from .. import jobs
from ..jobs import Job
from ..db import get_session
from ..security import csrf_exempt
from .activities import INBOX, id_of
from .domain_blocks import is_blocked
from .models import RemoteActor
from .remote import actor_by_id, public_key_for
from .signatures import SignatureError, key_owner_matches, verify

log = logging.getLogger("microblog.federation")
bp = Blueprint("federation_inbox", __name__)

TYPES = ("application/activity+json", "application/ld+json", "application/json")
RETRY_AFTER_SECONDS = 60


def answer(status: int, text: str = "") -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")


def target_uri() -> str:
    """The URL the sender signed: our public address (BASE_URL, not what a proxy says) and the path
    and query as received."""
    base = current_app.config.get("BASE_URL") or request.host_url.rstrip("/")
    raw = request.scope.get("raw_path") or request.path.encode()
    query = request.scope.get("query_string") or b""
    root = current_app.config.get("URL_PREFIX") or ""
    path = raw.decode("latin-1")
    if root and base.endswith(root):
        base = base[: -len(root)]  # the raw path carries the prefix already
    return base + path + (f"?{query.decode('latin-1')}" if query else "")


@bp.route("/inbox", methods=["POST"])
@bp.route("/users/<int(max=2147483647):user_id>/inbox", methods=["POST"])
@csrf_exempt
async def inbox(user_id: int | None = None):
    """Take an activity from another server: 202 once it is safely queued."""
    if not current_app.config["FEDERATION"]:
        return answer(404, "This site does not federate.")
    if request.mimetype not in TYPES:
        return answer(415, "Send application/activity+json.")
    body = await request.get_data(cache=False)  # at most MAX_BODY_BYTES (64 KB unless set): else 413
    try:
        activity = json.loads(body)
    except ValueError:
        return answer(400, "Not JSON.")
    actor = id_of(activity.get("actor")) if isinstance(activity, dict) else None
    if actor is None:
        return answer(400, "An activity needs an actor.")
    activity_id = id_of(activity.get("id"))
    db = get_session()
    if await is_blocked(db, actor):
        return answer(403, "This site does not take activities from your server.")
    if activity.get("type") == "Delete" and id_of(activity.get("object")) == actor \
            and await actor_by_id(db, actor, fetch=False) is None:
        return answer(202)  # an account we never knew is gone: nothing to do, nothing to fetch
    try:
        signed = await verify(request.method, target_uri(), list(request.headers.items()), body,
                              lambda key_id, refresh: public_key_for(db, key_id, refresh))
    except SignatureError as refusal:
        log.info("inbox: refused a delivery from %s: %s", actor[:200], refusal)
        return answer(401, f"Signature: {refusal}")
    signer = await db.scalar(_signer_of(signed.key_id))
    if signer != actor or not key_owner_matches(signed.key_id, actor):
        return answer(401, "The signature is not the actor's.")
    host = (urlsplit(actor).hostname or "").lower()
    if await waiting_from(db, host) >= current_app.config["FEDERATION_INBOX_QUEUE_PER_HOST"]:
        response = answer(429, "Too many activities from your server are waiting. Try again later.")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    digest = hashlib.sha256((activity_id or body.decode("utf-8", "replace")).encode()).hexdigest()
    jobs.enqueue(db, INBOX, {"activity": activity}, key=f"{host} {digest}")
    return answer(202)


async def waiting_from(db, host: str) -> int:
    """How many of `host`'s activities wait to be handled (counted up to the limit, in the job
    keys' index: a key is "<host> <digest>" while its job waits)."""
    limit = current_app.config["FEDERATION_INBOX_QUEUE_PER_HOST"]
    prefix = f"{INBOX}:{host} ".replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    waiting = select(Job.id).where(Job.kind == INBOX, Job.dedup_key.like(prefix + "%", escape="\\")).limit(limit)
    return await db.scalar(select(func.count()).select_from(waiting.subquery()))


def _signer_of(key_id: str):
    return select(RemoteActor.actor_id).where(RemoteActor.key_id == key_id)
