"""ActivityPub: people here found, followed and read from Mastodon and every ActivityPub server.

  models.py      people from elsewhere (RemoteActor), every actor's key pair, the site's key
  keys.py        RSA key pairs, made off the event loop (a job at registration; a backfill job)
  documents.py   the JSON: WebFinger, NodeInfo, Person, Application (the instance actor), Note
  routes.py      /.well-known/…, /nodeinfo/…, /users/<id> (+ collections), /actor; profile and
                 post pages answer ActivityStreams to those who ask (Vary: Accept)
  signatures.py  HTTP signatures: draft-cavage (cavage.py, Mastodon's) and RFC 9421 (rfc9421.py)
  fetch.py       the HTTP client: signed GET and POST, never to a private address
  remote.py      people from elsewhere: actor documents fetched, checked and kept; their keys
  inbox.py       POST /inbox and /users/<id>/inbox: checked, queued as a job, 202
  activities.py  the inbox's job: Follow (accepted), Undo, Delete and Update of an actor
  following.py   people here following people elsewhere: Follow, their Accept or Reject, Undo
  lookup.py      finding someone elsewhere from the search box: WebFinger, their actor, checked
  pictures.py    pictures of people elsewhere, copied here by a job
  pruning.py     forgetting posts and people from elsewhere nobody here needs any longer (a daily job)
  notes.py       posts from elsewhere: Create, Update and Delete of a Note by its author
  html.py        their HTML made safe (an allow-list), and its plain text
  delivery.py    sending: a job per (activity, inbox), retried for days; new and deleted posts
  blocking.py    people here blocking people elsewhere: Block, and its Undo
  domain_blocks.py  servers the operator blocks for everyone (cli.py: `quart federation
                 block-domain HOST`): refused at the inbox, never sent to, their people hidden
"""
import logging

from quart import Quart, current_app
from sqlalchemy.exc import SQLAlchemyError

from .. import db as database
from .. import events, jobs
from . import activities, blocking, cli, domain_blocks, fetch, following, lookup, pruning
from ..db import get_session
from ..web import add_lookup, add_partial
from .delivery import send_deletion, send_post, send_profile
from .documents import local_domain
from .inbox import bp as inbox_bp
from .keys import KEY_PAIR, accounts_without_keys, queue_key_pair
from .models import ActorKey, InstanceKey, RemoteActor
from .routes import bp, negotiate, vary_on_accept

__all__ = ["ActorKey", "InstanceKey", "RemoteActor", "activities", "init_app"]
log = logging.getLogger("microblog.federation")


def full_handle(user) -> str:
    """nick@host, as people elsewhere type it to find them (for someone here: this site's host;
    only the nickname while federation is off)."""
    if not user.is_local:
        return user.handle
    return f"{user.nickname}@{local_domain()}" if current_app.config["FEDERATION"] else user.nickname


async def remote_actor(user) -> RemoteActor | None:
    """What is kept of someone from elsewhere (templates: their profile's part)."""
    return await get_session().get(RemoteActor, user.id)


def switched_on(app: Quart) -> bool:
    """FEDERATION=1 or 0 as set; unset, on when BASE_URL is https (other servers need https)."""
    wanted = app.config.get("FEDERATION")
    if wanted is None:
        wanted = (app.config.get("BASE_URL") or "").startswith("https://")
        if not wanted:
            log.info(
                "federation is off: BASE_URL is not an https address (FEDERATION=1 turns it on anyway)")
    return bool(wanted)


def init_app(app: Quart) -> None:
    app.config["FEDERATION"] = switched_on(app)
    fetch.init_app(app)
    app.jinja_env.globals["full_handle"] = full_handle
    app.jinja_env.globals["remote_actor"] = remote_actor
    add_partial(app, "profile.elsewhere", "federation/_elsewhere.html")
    app.register_blueprint(bp)
    app.register_blueprint(inbox_bp)
    cli.register_cli(app)
    app.before_request(negotiate)
    app.after_request(vary_on_accept)
    events.account_registered.connect(queue_key_pair)
    events.post_published.connect(send_post)
    events.post_deleted.connect(send_deletion)
    events.profile_updated.connect(send_profile)
    if app.config["FEDERATION"]:
        add_lookup(app, lookup.for_search)
    events.follow_requested.connect(following.send_follow)
    events.follow_request_withdrawn.connect(following.send_undo)
    events.unfollowed.connect(following.send_undo)
    events.follow_refused.connect(domain_blocks.why_no_follow)
    events.blocked.connect(blocking.send_block)
    events.unblocked.connect(blocking.send_undo_block)

    @app.before_serving
    async def _queue_background_work() -> None:
        """Accounts made before federation get their keys from a job (one queued, whichever
        worker); today's pruning is queued (pruning.py: one a day)."""
        if not app.config["FEDERATION"]:
            return
        try:
            async with database.new_session() as db:
                if await accounts_without_keys(db, limit=1):
                    jobs.enqueue(db, KEY_PAIR, {}, key="backfill")
                if app.config["FEDERATION_PRUNE_DAYS"]:
                    pruning.queue_pruning(db)
                await database.commit(db)
        except (SQLAlchemyError, OSError) as error:  # the site starts with its database down, too
            log.warning("keys for existing accounts and pruning not queued: %s", error)
