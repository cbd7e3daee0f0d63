"""People from elsewhere: their actor documents fetched (signed by the site) and kept as Users
with a domain and a RemoteActor, and their keys, for checking what they send."""
import re
from datetime import timedelta
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import DISPLAY_NAME_MAX, User
from ..accounts.nicknames import NICKNAME_MAX
from ..db import insert_or_ignore, utcnow
from . import pictures
from .fetch import FetchFailed, signed_get
from .html import safe_html
from .keys import instance_key
from .documents import instance_actor_id, key_id as key_id_of, local_domain
from .domain_blocks import domain_of_url, is_blocked
from .models import URL_MAX, ActorKey, RemoteActor
from .signatures import key_owner_matches, public_key_from_pem

ACTOR_TYPES = {"Person", "Service", "Application", "Group", "Organization"}
# A username people can type (Mastodon's letters, digits and _, with . or - between; Misskey and
# others allow a few more): no @, /, spaces or invisible characters, which would make look-alikes.
USERNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
SUMMARY_MAX = 5000  # characters of their about-me as sent (cut before it is made safe: the tags close)
REFRESH_AT_MOST = timedelta(minutes=1)  # a key that fails is fetched again at most this often


def _text(value, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _url(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("href") or value.get("url")
    if isinstance(value, list) and value:
        return _url(value[0])
    return value if isinstance(value, str) and len(value) <= URL_MAX and value.startswith(("https://", "http://")) else None


def parse_actor(document: dict, fetched_from: str) -> dict:
    """What we keep of an actor document, checked: its id is where it was fetched from (or on the
    same host), its key is its own. FetchFailed otherwise."""
    actor = _url(document.get("id"))
    if actor is None or document.get("type") not in ACTOR_TYPES:
        raise FetchFailed(f"{fetched_from[:200]} is not an actor")
    if urlsplit(actor).netloc.lower() != urlsplit(fetched_from).netloc.lower():
        raise FetchFailed(f"{fetched_from[:200]} answered for another host's actor")
    key = document.get("publicKey")
    key = key[0] if isinstance(key, list) and key else key
    if not isinstance(key, dict) or not isinstance(key.get("publicKeyPem"), str):
        raise FetchFailed(f"{actor[:200]} has no public key")
    key_id = _url(key.get("id"))
    if key_id is None or not key_owner_matches(key_id, actor) or key.get("owner", actor) != actor:
        raise FetchFailed(f"{actor[:200]}'s key is not its own")
    inbox = _url(document.get("inbox"))
    nickname = _text(document.get("preferredUsername"), NICKNAME_MAX)
    if inbox is None or nickname is None or not USERNAME.fullmatch(nickname):
        raise FetchFailed(f"{actor[:200]} has no inbox or no username one can type")
    domain = domain_of_url(actor)
    if domain is None or domain == local_domain().lower():
        raise FetchFailed(f"{actor[:200]} is not on another server")  # ours are no one from elsewhere
    try:
        public_key_from_pem(key["publicKeyPem"])  # a key we can read
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise FetchFailed(f"{actor[:200]}'s key cannot be read") from error
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    return {
        "actor_id": actor, "key_id": key_id, "inbox": inbox, "shared_inbox": _url(endpoints.get("sharedInbox")),
        "profile_url": _url(document.get("url")), "icon_url": _url(document.get("icon")),
        "nickname": nickname, "domain": domain,
        "display_name": _text(document.get("name"), DISPLAY_NAME_MAX),
        # Their about-me is HTML: kept made safe, for their profile here (templates/federation/).
        "summary": safe_html(document["summary"][:SUMMARY_MAX]) if isinstance(document.get("summary"), str) else None,
        "public_key_pem": key["publicKeyPem"],
    }


async def fetch_actor_document(db: AsyncSession, url: str) -> dict:
    if await is_blocked(db, url):
        raise FetchFailed(f"{url[:200]}: its server is blocked here")
    site = await instance_key(db)
    return await signed_get(url, key_id_of(instance_actor_id()), site.private_key_pem)


async def remember(db: AsyncSession, found: dict) -> User:
    """Store or refresh a remote actor (found by `parse_actor`); its User."""
    remote = await db.scalar(select(RemoteActor).where(RemoteActor.actor_id == found["actor_id"]))
    if remote is None:
        user = await _user_for_handle(db, found["nickname"], found["domain"], found["actor_id"])
        if await is_blocked(db, found["domain"]):
            user.suspended = True  # known, and hidden as the rest of their server (domain_blocks.py)
        await db.execute(insert_or_ignore(db, RemoteActor).values(
            user_id=user.id, **{k: found[k] for k in ("actor_id", "key_id", "inbox", "shared_inbox",
                                                      "profile_url", "icon_url", "summary")}, fetched_at=utcnow()))
        await db.execute(insert_or_ignore(db, ActorKey).values(user_id=user.id, public_key_pem=found["public_key_pem"]))
        if found["icon_url"]:
            pictures.copy_later(db, user.id)
    else:
        user = await db.get_one(User, remote.user_id)
        if found["icon_url"] != remote.icon_url:
            pictures.copy_later(db, user.id)
        await db.execute(update(RemoteActor).where(RemoteActor.user_id == user.id).values(
            key_id=found["key_id"], inbox=found["inbox"], shared_inbox=found["shared_inbox"],
            profile_url=found["profile_url"], icon_url=found["icon_url"], summary=found["summary"],
            fetched_at=utcnow()))
        await db.execute(update(ActorKey).where(ActorKey.user_id == user.id).values(public_key_pem=found["public_key_pem"]))
    user.display_name = found["display_name"]
    await db.flush()
    return user


async def _user_for_handle(db: AsyncSession, nickname: str, domain: str, actor_id: str) -> User:
    """A new User for a new actor with handle nickname@domain. Another actor may hold the handle
    already: an account deleted there and made again, say. The handle is the newcomer's (their
    server says so now); the old actor keeps its row, its followers and its posts, under a name no
    one can type (`~<id>`), for its id is another identity: a newcomer never inherits it."""
    async def holder() -> User:
        await db.execute(insert_or_ignore(db, User).values(nickname=nickname, domain=domain))
        return await db.scalar(select(User).where(func.lower(User.nickname) == nickname.lower(),
                                                  User.domain == domain))  # as the unique index compares
    user = await holder()
    held_by = await db.scalar(select(RemoteActor.actor_id).where(RemoteActor.user_id == user.id))
    if held_by is not None and held_by != actor_id:  # (the same actor: another worker was first)
        user.nickname = f"~{user.id}"
        await db.flush()
        user = await holder()
    return user


async def actor_by_id(db: AsyncSession, actor: str, fetch: bool = True) -> User | None:
    """The remote person with this actor id, fetched and stored if new (and `fetch`)."""
    known = await db.scalar(select(User).join(RemoteActor, RemoteActor.user_id == User.id)
                            .where(RemoteActor.actor_id == actor))
    if known is not None or not fetch:
        return known
    return await remember(db, parse_actor(await fetch_actor_document(db, actor), actor))


async def public_key_for(db: AsyncSession, key_id: str, refresh: bool):
    """The public key named `key_id` (for signatures.verify): the stored one, else its actor's
    document fetched (the key id without its fragment is the actor, or a key document naming its
    owner); with `refresh`, fetched again unless fetched within the last minute."""
    row = (await db.execute(select(ActorKey.public_key_pem, RemoteActor.fetched_at, RemoteActor.actor_id)
                            .join(RemoteActor, RemoteActor.user_id == ActorKey.user_id)
                            .where(RemoteActor.key_id == key_id))).first()
    if row is not None and (not refresh or utcnow() - row.fetched_at < REFRESH_AT_MOST):
        return public_key_from_pem(row.public_key_pem) if not refresh else None
    url = row.actor_id if row is not None else key_id.split("#", 1)[0]
    try:
        document = await fetch_actor_document(db, url)
        if document.get("type") not in ACTOR_TYPES and isinstance(document.get("owner"), str):
            url = document["owner"]  # a key document (some servers): its owner is the actor
            document = await fetch_actor_document(db, url)
        found = parse_actor(document, url)
    except FetchFailed:
        return None
    if found["key_id"] != key_id:
        return None
    await remember(db, found)
    return public_key_from_pem(found["public_key_pem"])
