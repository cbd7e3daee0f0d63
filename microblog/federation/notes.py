"""Posts from elsewhere: a Note created, edited or deleted by its author, handled by the inbox's
job (activities.py) once the inbox has checked that the signer is the activity's actor.

A Create is kept only if it is its actor's own Note (`attributedTo` is the actor, its id on the
actor's host: a server speaks only for its own posts) and someone here follows the author (what
no one here asked for is dropped quietly, as Mastodon drops it). Its audience decides who reads it:
addressed to everyone (as:Public), a public post; to the author's followers, a followers-only one,
shown only in the home timelines of its author's followers here; addressed to people alone, a
direct message, not kept until messages exist. Its HTML is made safe once, on the way in
(html.py); its plain text is the post's body (search, language, translation). Stored once by its
id: a copy delivered again, or handled by two workers at once, is no second post.

Update and Delete of a Note count only from its author (the stored post's author is the actor).
"""
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..db import utcnow
from ..follows.models import followers
from ..posts.language import detect_language
from ..posts.models import FOLLOWERS, PUBLIC, UNLISTED, Post
from .documents import AS_PUBLIC
from .html import plain_text, safe_html
from .models import URL_MAX
from .remote import actor_by_id, fetch_actor_document

CONTENT_MAX = 100_000  # bytes of a Note's HTML; a longer one is dropped (no one writes that much)
PUBLIC_ADDRESSES = {AS_PUBLIC, "as:Public", "Public"}
NOTE_TYPES = {"Note"}


def _ids(value) -> list[str]:
    """The ids in an addressing field: a string, an object with an id, or a list of either."""
    values = value if isinstance(value, list) else [value]
    return [v.get("id") if isinstance(v, dict) else v for v in values
            if isinstance(v, str) or isinstance(v, dict) and isinstance(v.get("id"), str)]


def _url(value) -> str | None:
    """An http(s) address we can keep (a Note's id or url: a string, or a Link with an href)."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("href")
    usable = isinstance(value, str) and len(value) <= URL_MAX and value.startswith(("https://", "http://"))
    return value if usable else None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _published(value) -> datetime:
    """When it was written, as its server says (UTC): never later than now, now if unreadable."""
    now = utcnow()
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        return now
    when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    return min(when, now)


def _language_of(note: dict) -> str | None:
    """The language its server names (contentMap's first key: "pt-BR" → "pt"), else None."""
    content_map = note.get("contentMap")
    tag = next(iter(content_map), None) if isinstance(content_map, dict) and content_map else None
    primary = tag.split("-")[0].lower() if isinstance(tag, str) else ""
    return primary if 2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha() and primary != "und" else None


def _content(note: dict) -> str | None:
    content = note.get("content")
    if not isinstance(content, str) and isinstance(note.get("contentMap"), dict):
        content = next(iter(note["contentMap"].values()), None)
    if not isinstance(content, str) or len(content.encode()) > CONTENT_MAX:
        return None
    return content


async def _words(note: dict) -> tuple[str, str, str] | None:
    """(safe HTML, plain text, language) of a Note, or None: no content, or too much."""
    content = _content(note)
    if content is None:
        return None
    text = plain_text(content)
    language = _language_of(note)
    return safe_html(content), text, language if language is not None else await detect_language(text)


async def _visibility(db: AsyncSession, note: dict, activity: dict, actor: str) -> str | None:
    """PUBLIC (Public in `to`), UNLISTED (Public in `cc` only: Mastodon's "quiet public", kept out
    of search), FOLLOWERS, or None: addressed to people alone (a direct message). The author's
    followers collection is `<actor>/followers` on nearly every server; else their document says."""
    to, cc = ((_ids(note.get("to")), _ids(note.get("cc"))) if note.get("to") or note.get("cc")
              else (_ids(activity.get("to")), _ids(activity.get("cc"))))  # the Note's, else the Create's
    audience = {*to, *cc}
    if set(to) & PUBLIC_ADDRESSES:
        return PUBLIC
    if audience & PUBLIC_ADDRESSES:
        return UNLISTED
    if f"{actor}/followers" in audience:
        return FOLLOWERS
    own = {address for address in audience if _host(address) == _host(actor)} - {actor}
    if own:  # something of theirs: their followers collection, if their document names it so
        document = await fetch_actor_document(db, actor)
        if document.get("followers") in own:
            return FOLLOWERS
    return None


async def _followed_here(db: AsyncSession, author: User) -> bool:
    someone = select(followers.c.follower_id).where(followers.c.followed_id == author.id).limit(1)
    return await db.scalar(someone) is not None


def _own_note(note, actor: str) -> str | None:
    """The Note's id if it is `actor`'s own Note (attributed to them, its id on their host)."""
    if not isinstance(note, dict) or note.get("type") not in NOTE_TYPES:
        return None
    note_id = _url(note.get("id"))
    attributed = _ids(note.get("attributedTo"))
    if note_id is None or attributed != [actor] or _host(note_id) != _host(actor):
        return None
    return note_id


async def on_create(db: AsyncSession, activity: dict, actor: str) -> None:
    note = activity.get("object")
    note_id = _own_note(note, actor)
    author = await actor_by_id(db, actor, fetch=False) if note_id is not None else None
    if author is None or not await _followed_here(db, author):
        return
    if await db.scalar(select(Post.id).where(Post.ap_id == note_id)) is not None:
        return  # here already: a copy (the insert below would ignore it too, after the work)
    # (FetchFailed: who it is for cannot be told now; the job tries again later, then drops it.)
    visibility = await _visibility(db, note, activity, actor)
    words = await _words(note) if visibility is not None else None
    if words is None:
        return
    html, text, language = words
    await Post.receive(db, author, note_id, html, text, _url(note.get("url")) or note_id, visibility,
                       _published(note.get("published")), language)


async def _authors_post(db: AsyncSession, note_id: str | None, actor: str) -> Post | None:
    """The stored post with this id, if `actor` is its author."""
    if note_id is None:
        return None
    author = await actor_by_id(db, actor, fetch=False)
    post = await db.scalar(select(Post).where(Post.ap_id == note_id))
    return post if post is not None and author is not None and post.user_id == author.id else None


async def on_update(db: AsyncSession, activity: dict, actor: str) -> None:
    note = activity.get("object")
    post = await _authors_post(db, _own_note(note, actor), actor)
    words = await _words(note) if post is not None else None
    if words is not None:
        await post.revise(db, *words)


async def on_delete(db: AsyncSession, activity: dict, actor: str) -> None:
    gone = activity.get("object")
    note_id = gone.get("id") if isinstance(gone, dict) else gone
    post = await _authors_post(db, note_id if isinstance(note_id, str) else None, actor)
    if post is not None:
        author = await db.get_one(User, post.user_id)
        await post.delete_by(db, author)
