"""/search: the page, active search's results under the box, the next page of results."""
import re
from dataclasses import dataclass

from markupsafe import Markup
from quart import Blueprint, current_app, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..db import get_session
from ..errors import error_response
from ..i18n import gettext as _
from ..paging import Page, list_response
from ..posts.models import PUBLIC, Post
from ..accounts import load_current_user
from ..web import LookedUp, is_htmx, lookups, render, see_other
from .backend import MAX_RESULTS, SearchUnavailable, backend
from .highlight import highlight
from .query import Query, parse

bp = Blueprint("search", __name__)

MAX_QUERY = 200  # characters; a longer one is not a search anyone types
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Offset:
    """Where the next page of results starts (results are ranked, so an offset, not a keyset)."""

    value: int

    def encode(self) -> str:
        return str(self.value)

    @classmethod
    def current(cls) -> int:
        raw = request.args.get("cursor", "")
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 and int(raw) < MAX_RESULTS else 0


@dataclass(frozen=True)
class Hit:
    post: Post
    highlighted: Markup


def search_text() -> tuple[str, bool]:
    """What was asked (control characters out, spaces collapsed) and whether it can be searched."""
    raw = request.args.get("q", "")
    text = " ".join(CONTROL_CHARACTERS.sub(" ", raw).split())
    return text[:MAX_QUERY], len(text) <= MAX_QUERY


async def find(query: Query, offset: int, per_page: int) -> tuple[Page, int, bool]:
    """A page of hits, re-checked against the database: a deleted post the index still names is
    never shown, nor is a followers-only post (the indexes leave them out already), nor the post
    of someone whose server the operator blocked, or whom the reader blocks."""
    db = get_session()
    hits = await backend().search(db, query, offset, per_page)
    hidden = Post.hidden_from(await load_current_user())  # accounts and servers the reader keeps away
    posts = {post.id: post for post in (await db.scalars(
        select(Post).where(Post.id.in_(hits.ids), Post.visibility == PUBLIC, *hidden)
        .options(joinedload(Post.author, innerjoin=True)))).all()}
    shown = [i for i in hits.ids if i in posts and not posts[i].author.suspended]  # not a blocked server's
    items = [Hit(posts[i], highlight(posts[i].body, posts[i].language, query)) for i in shown]
    total = max(hits.total - (len(hits.ids) - len(items)), len(items) + offset)
    more = offset + per_page < min(hits.total, MAX_RESULTS) and len(hits.ids) == per_page
    return Page(items=items, older=Offset(offset + per_page) if more else None, newer=None), total, hits.more


@bp.route("/search")
async def search():
    """Posts matching `q`, best first: the page; for active search (htmx) the results alone; for
    infinite scroll the next page alone."""
    text, searchable = search_text()
    # Active search asks on every keystroke (half-typed server names); and a link from another
    # site must not make this one call out in someone's name (browsers say where a request
    # comes from: Sec-Fetch-Site).
    submitted = not is_htmx() and request.headers.get("Sec-Fetch-Site", "none") in ("same-origin", "none")
    looked_up = await _look_up(text, submitted) if text else None
    if looked_up is not None and looked_up.url and submitted:
        return see_other(looked_up.url)
    query = parse(text)
    page, total, more = Page(items=[], older=None, newer=None), 0, False
    if query.groups and searchable:  # only words to leave out would read every post: not searched
        try:
            page, total, more = await find(query, Offset.current(), current_app.config["POSTS_PER_PAGE"])
        except SearchUnavailable:
            response = await error_response(503, _("Search is busy"), _(
                "Search is busy at the moment. Please try again in a moment."))
            response.headers["Retry-After"] = "10"
            return response
    context = dict(q=text, searchable=searchable, looked_up=looked_up, only_excluded=bool(query.excluded and not query.groups), total=total, more_than_total=more, page=page, item_template="search/_hit.html",
                   list_endpoint="search.search", list_query={"q": text}, title=_title(text))
    whole_page = request.headers.get("HX-Request-Type") == "full" or request.headers.get("HX-History-Restore-Request")
    if is_htmx() and not whole_page and not request.args.get("cursor"):
        return await render("search/_results.html", **context)
    return await list_response("search/search.html", **context)


async def _look_up(text: str, submitted: bool) -> LookedUp | None:
    """What the site's look-ups (web.add_lookup; federation: someone elsewhere) make of `text`:
    each may fetch only for someone logged in who submitted the search."""
    person = await load_current_user()
    for lookup in lookups(current_app):
        found = await lookup(text, person, submitted and person is not None)
        if found is not None:
            return found
    return None


def _title(text: str) -> str:
    return _("Search: %(query)s", query=text) if text else _("Search")


@bp.route("/search_results/<path:query>")
async def legacy_search_results(query: str):
    """The seed's old address: the same search at its new one."""
    return redirect(url_for("search.search", q=query), 301)
