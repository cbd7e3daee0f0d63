"""Servers the operator blocks for everyone (`quart federation block-domain HOST`, cli.py), with
every server under them: blocking example.com blocks social.example.com too, as Mastodon does.
A block names a host (covering all its ports) or a host:port (that one only).

What a block does, and where:
- its deliveries are answered 403 at the inbox, before any signature is checked or key fetched
  (inbox.py); nothing is fetched from it (remote.fetch_actor_document) nor looked up from the
  search box (lookup.for_search: a sentence says why);
- nothing is sent to it: fan-outs skip it, and a delivery already queued ends as final when its
  job runs (delivery.py);
- its people are hidden here (User.suspended: their profiles and posts are a 404 for everyone,
  search leaves their posts out), and every follow and follow request between them and anyone
  here ends, both ways. Nothing is sent about it: their server is not told anything any more.
Timelines need no filter of their own: they show only what people here follow (and explore only
posts written here), and no one here follows anyone there any more, nor can.
Unblocking lets the server talk to us again and shows its people again; ended follows stay ended."""
import ipaddress
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import HOST_PATTERN, User
from ..db import insert_or_ignore, utcnow
from ..i18n import lazy_gettext as _l
from ..follows.models import follow_requests, followers
from .models import DomainBlock, SentFollow


def ascii_host(host: str) -> str | None:
    """`host` as servers are reached and named here: lower case, no final dot, an international
    name in its ASCII form (bücher.example → xn--bcher-kva.example), or None if it is none."""
    try:
        return host.rstrip(".").encode("idna").decode("ascii").lower() or None
    except UnicodeError:
        return None


def normalise(text: str) -> str:
    """A host as a block names it (lower case, no scheme, no path); ValueError if it is none."""
    host = text.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    name, colon, port = host.partition(":")
    host = (ascii_host(name) or "") + colon + port
    if not HOST_PATTERN.fullmatch(host):
        raise ValueError(f"not a host name: {text[:100]!r}")
    return host


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def covering(domain: str) -> list[str]:
    """The blocks that would cover `domain` (as User.domain names a server: a host, maybe with
    its port): itself, its host whatever the port, and each domain above it (not above an address)."""
    domain = domain.lower()
    host, _, port = domain.partition(":")
    names = [domain] if port else []
    if _is_address(host):
        return names + [host]
    parts = host.split(".")
    return names + [".".join(parts[i:]) for i in range(len(parts))]


def covers(block: str, domain: str) -> bool:
    return block in covering(domain)


def _covered_by(column, block: str) -> ColumnElement:
    """`column` (a domain, as User.domain) names a server `block` covers. A host name holds no
    LIKE wildcards (HOST_PATTERN): nothing to escape."""
    if ":" in block:
        return or_(column == block, column.like(f"%.{block}"))
    return or_(column == block, column.like(f"{block}:%"), column.like(f"%.{block}"), column.like(f"%.{block}:%"))


def domain_of_url(url: str) -> str | None:
    """The server a URL is on, as User.domain names it (bob@localhost:3000: the port only when
    not the scheme's own, as Mastodon names it), or None for no URL at all."""
    try:
        parts = urlsplit(url)
        port, default = parts.port, {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:  # a port that is no number, or out of range; a broken [address]
        return None
    host = ascii_host(parts.hostname or "")
    if not host:
        return None
    return host + (f":{port}" if port not in (None, default) else "")


async def is_blocked(db: AsyncSession, url_or_domain: str) -> bool:
    """Whether the operator blocked the server of `url_or_domain` (one look in the primary key)."""
    domain = domain_of_url(url_or_domain) if "/" in url_or_domain else url_or_domain
    if not domain:
        return False
    return await db.scalar(select(DomainBlock.domain).where(DomainBlock.domain.in_(covering(domain))).limit(1)) is not None


async def why_no_follow(db: AsyncSession, follower_id: int, followed_id: int) -> str | None:
    """Nobody follows or is followed by someone on a blocked server (listens to events.follow_refused)."""
    for user_id in (follower_id, followed_id):
        user = await db.get(User, user_id)  # both just loaded by the one who asks: no query
        if user is not None and user.suspended:
            return _l("%(host)s is blocked on this site.", host=user.domain)
    return None


async def blocked_domains(db: AsyncSession) -> list[DomainBlock]:
    return list(await db.scalars(select(DomainBlock).order_by(DomainBlock.domain)))


async def block(db: AsyncSession, text: str) -> int:
    """Block the server `text` names and those under it (staged): how many people of theirs
    known here are hidden now. Blocking it again changes nothing."""
    domain = normalise(text)
    await db.execute(insert_or_ignore(db, DomainBlock).values(domain=domain, created=utcnow()))
    hidden = (await db.execute(update(User).where(User.domain != "", _covered_by(User.domain, domain))
                               .values(suspended=True).execution_options(synchronize_session=False))).rowcount
    there = select(User.id).where(User.domain != "", _covered_by(User.domain, domain))
    for table in (followers, follow_requests):
        await db.execute(delete(table).where(or_(table.c.follower_id.in_(there), table.c.followed_id.in_(there))))
    await db.execute(delete(SentFollow).where(SentFollow.followed_id.in_(there)))  # nothing left to Undo
    return hidden


async def unblock(db: AsyncSession, text: str) -> bool:
    """Lift the block of `text` (staged): its people show again, but for those another block
    still covers (a domain above or below it). False if it was not blocked."""
    domain = normalise(text)
    if not (await db.execute(delete(DomainBlock).where(DomainBlock.domain == domain))).rowcount:
        return False
    await db.execute(update(User).where(User.domain != "", _covered_by(User.domain, domain))
                     .values(suspended=False).execution_options(synchronize_session=False))
    for other in await blocked_domains(db):
        if covers(other.domain, domain) or covers(domain, other.domain):
            await db.execute(update(User).where(User.domain != "", _covered_by(User.domain, other.domain))
                             .values(suspended=True).execution_options(synchronize_session=False))
    return True
