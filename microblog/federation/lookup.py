"""Finding someone elsewhere from what a person typed into the search box: `@nick@host`,
`nick@host`, or the https address of their profile or of one of their posts.

A handle is resolved by WebFinger; the actor is fetched signed by the site (servers in "authorized
fetch" mode answer only that), and kept only if WebFinger of the handle it claims points back to
it, as Mastodon checks: a server cannot pass its people off as another's. Someone known and
fetched within a day is not fetched again. A failed look-up is said in a sentence and remembered
for a while; look-ups are limited per person and per server. Only people logged in look anyone up
(search/routes.py): a visitor's search never makes this site call another."""
import asyncio
import hashlib
import re
from datetime import timedelta
from urllib.parse import quote, unquote, urlsplit

from quart import current_app, url_for
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import clock
from ..accounts.models import HOST_PATTERN, User
from ..accounts.throttle import Policy, Throttle
from ..db import get_session, insert_or_ignore
from ..i18n import gettext as _
from ..web import LookedUp
from .documents import instance_actor_id, key_id, local_domain, local_user_id
from .domain_blocks import domain_of_url, is_blocked
from .fetch import FetchFailed, PrivateAddress, get, json_object, signed_get
from .keys import instance_key
from .models import URL_MAX, FailedLookup, RemoteActor
from .remote import ACTOR_TYPES, parse_actor, remember

PROFILE_PATH = re.compile(r"/user/([^/]+)/?$")
HANDLE = re.compile(r"@?([A-Za-z0-9_.-]{1,64})@([^@\s/]{1,260})")
WEBFINGER_ACCEPT = "application/jrd+json, application/json"
WEBFINGER_MAX = 64 * 1024
FRESH_FOR = timedelta(days=1)
FAILURE_KEPT = timedelta(minutes=10)
PER_PERSON = Policy("lookup-person", free=30, first_delay=60, max_delay=900, forget_after=timedelta(minutes=15))
# Per person and server (not per server alone: two people typing could use up a big server's).
PER_SERVER = Policy("lookup-server", free=10, first_delay=60, max_delay=900, forget_after=timedelta(minutes=15))


class LookupFailed(Exception):
    """Nobody found: the message is a sentence for the person who asked."""


def what_to_look_up(text: str) -> tuple[str, str] | str | None:
    """(nick, host) for a handle, the address for an https URL, None for anything else (words to
    search posts for)."""
    text = text.strip()
    if match := HANDLE.fullmatch(text):
        host = match[2].lower()
        return (match[1], host) if HOST_PATTERN.fullmatch(host) else None
    scheme = text.split(":", 1)[0].lower()
    allowed = ("https", "http") if current_app.config["FEDERATION_ALLOW_PRIVATE_ADDRESSES"] else ("https",)
    if scheme in allowed and len(text) <= URL_MAX and " " not in text and domain_of_url(text):
        return text  # (domain_of_url: None for a broken host or port)
    return None


async def look_up(db: AsyncSession, text: str, person: User) -> User:
    """The person `text` names (see what_to_look_up), stored or refreshed; LookupFailed if not."""
    target = what_to_look_up(text)
    if target is None:
        raise LookupFailed(_("That is not a handle (@name@server) or an https address."))
    known = await _known(db, target)
    if known is not None:
        return known
    host = target[1] if isinstance(target, tuple) else domain_of_url(target)
    if host == local_domain().lower():  # this site: someone here, or nobody (never fetched)
        what = f"@{target[0]}@{target[1]}" if isinstance(target, tuple) else target
        raise LookupFailed(_("No account %(handle)s was found.", handle=what))
    digest = hashlib.sha256(text.strip().lower().encode()).hexdigest()
    failure = await db.get(FailedLookup, digest)
    if failure is not None and failure.until > clock.now():
        raise LookupFailed(failure.reason)
    if (await Throttle.take(Throttle.key_for(PER_PERSON.kind, str(person.id)), PER_PERSON)
            or await Throttle.take(Throttle.key_for(PER_SERVER.kind, f"{person.id} {host}"), PER_SERVER)):
        raise LookupFailed(_("You have looked up many people in a short time. Please try again in a few minutes."))
    try:
        return await _fetch(db, target)
    except FetchFailed as failure:
        reason = _reason(failure, target, host)
        # Kept with the request (whose page says why): a look-up has no other writes to undo.
        await db.execute(delete(FailedLookup).where(or_(FailedLookup.query == digest,
                                                        FailedLookup.until < clock.now())))
        await db.execute(insert_or_ignore(db, FailedLookup).values(
            query=digest, reason=reason[:200], until=clock.now() + FAILURE_KEPT))
        raise LookupFailed(reason) from failure


async def _known(db: AsyncSession, target: tuple[str, str] | str, fresh_only: bool = True) -> User | None:
    """Someone already here (fetched within a day, if `fresh_only`), by handle or by actor or
    profile address."""
    if isinstance(target, tuple) and target[1] == local_domain().lower():
        return await User.by_nickname(db, target[0])  # someone here, typed as others type them
    if isinstance(target, str) and domain_of_url(target) == local_domain().lower():
        return await _here(db, target)
    if isinstance(target, tuple):
        user = await User.by_handle(db, f"{target[0]}@{target[1]}")
        remote = await db.get(RemoteActor, user.id) if user is not None else None
    else:
        remote = await db.scalar(select(RemoteActor).where(
            or_(RemoteActor.actor_id == target, RemoteActor.profile_url == target)).limit(1))
        user = await db.get(User, remote.user_id) if remote is not None else None
    if remote is not None and (not fresh_only or clock.now() - remote.fetched_at < FRESH_FOR):
        return user
    return None


async def _here(db: AsyncSession, url: str) -> User | None:
    """Someone here, by the address of their actor (/users/<id>) or of their profile (/user/<nick>):
    this site is never fetched as if it were another."""
    user_id = local_user_id(url)
    if user_id is not None:
        user = await db.get(User, user_id)
        return user if user is not None and user.is_local else None
    found = PROFILE_PATH.search(urlsplit(url).path)
    return await User.by_nickname(db, unquote(found[1])) if found else None


def _reason(failure: FetchFailed, target, host: str) -> str:
    """What to tell the person who asked."""
    if isinstance(failure, PrivateAddress) or failure.status is None and not failure.unanswered \
            and str(failure).startswith("not an https address"):
        return _("%(host)s cannot be looked up from this site.", host=host)
    if failure.status in (404, 410):
        what = f"@{target[0]}@{target[1]}" if isinstance(target, tuple) else target
        return _("No account %(handle)s was found.", handle=what)
    if failure.unanswered or (failure.status or 0) >= 500:
        return _("%(host)s did not answer. It may be down: try again later.", host=host)
    return _("%(host)s did not say who this is in a way this site understands (ActivityPub).", host=host)


async def _fetch(db: AsyncSession, target: tuple[str, str] | str) -> User:
    """Every fetch first, within half the request's time (each is limited, but there may be six:
    WebFinger, the actor, a post's author, WebFinger back, two collections); then one write. A
    write before a fetch would hold SQLite's writer while the other server takes its time."""
    try:
        async with asyncio.timeout(current_app.config["REQUEST_TIMEOUT"] / 2):
            found, counts = await _fetch_all(db, target)
    except TimeoutError as error:
        raise FetchFailed("the look-up took too long", unanswered=True) from error
    user = await remember(db, found)
    await db.execute(update(RemoteActor).where(RemoteActor.user_id == user.id).values(**counts))
    return user


async def _fetch_all(db: AsyncSession, target: tuple[str, str] | str) -> tuple[dict, dict]:
    actor = await webfinger(*target) if isinstance(target, tuple) else target
    document = await _signed(db, actor)
    if document.get("type") not in ACTOR_TYPES and isinstance(document.get("attributedTo"), str):
        author = document["attributedTo"]  # a post's address: its author
        if domain_of_url(author) is None or domain_of_url(author) != domain_of_url(actor):
            raise FetchFailed(f"{actor[:200]} names an author on another server")
        actor, document = author, await _signed(db, author)
    found = parse_actor(document, actor)
    scheme = urlsplit(found["actor_id"]).scheme
    if await webfinger(found["nickname"], found["domain"], scheme) != found["actor_id"]:
        raise FetchFailed(f"@{found['nickname']}@{found['domain']} does not lead back to {found['actor_id'][:200]}")
    counts = {f"{name}_count": await _total(db, document.get(name), found["domain"])
              for name in ("followers", "following")}
    return found, counts


async def webfinger(nick: str, host: str, scheme: str = "https") -> str:
    """The actor id that WebFinger at `host` gives for acct:nick@host."""
    resource = quote(f"acct:{nick}@{host}", safe=":@")
    url = f"{scheme}://{host}/.well-known/webfinger?resource={resource}"
    document = json_object(url, await get(url, {"Accept": WEBFINGER_ACCEPT}, WEBFINGER_MAX))
    for link in document.get("links") or ():
        if (isinstance(link, dict) and link.get("rel") == "self" and isinstance(link.get("href"), str)
                and (link.get("type") or "").split(";")[0] in ("application/activity+json", "application/ld+json")):
            return link["href"]
    raise FetchFailed(f"{url[:200]} names no ActivityPub actor", 404)


async def _signed(db: AsyncSession, url: str) -> dict:
    if await is_blocked(db, url):
        raise FetchFailed(f"{url[:200]}: its server is blocked here")
    site = await instance_key(db)
    return await signed_get(url, key_id(instance_actor_id()), site.private_key_pem)


async def _total(db: AsyncSession, collection, domain: str) -> int | None:
    """A collection's totalItems, as its server reports it (None if it does not say)."""
    if isinstance(collection, dict):
        total = collection.get("totalItems")
    elif isinstance(collection, str) and domain_of_url(collection) == domain:
        try:
            total = (await _signed(db, collection)).get("totalItems")
        except FetchFailed:
            return None
    else:
        return None
    return total if isinstance(total, int) and 0 <= total < 2 ** 31 else None


async def for_search(text: str, person: User | None, may_fetch: bool) -> LookedUp | None:
    """The search box's look-up (web.add_lookup): their profile here, or why not. Without
    `may_fetch` (a visitor, or active search while typing) only someone known here is found."""
    target = what_to_look_up(text)
    if target is None:
        return None
    db = get_session()
    host = target[1] if isinstance(target, tuple) else domain_of_url(target)
    if host and await is_blocked(db, host):
        return LookedUp(message=_("%(host)s is blocked on this site: its people cannot be looked up or followed.",
                                  host=host))
    if not may_fetch:
        known = await _known(db, target, fresh_only=False)
        if known is not None:
            return LookedUp(url=url_for("profiles.user", nickname=known.handle))
        return LookedUp(message=_("Press Enter to look this up on its server.") if person is not None
                        else _("Log in to look up people on other servers."))
    try:
        found = await look_up(db, text, person)
    except LookupFailed as failure:
        return LookedUp(message=str(failure))
    return LookedUp(url=url_for("profiles.user", nickname=found.handle))
