"""A post as lists show it (`posts/_post.html`), kept rendered so that a page of posts does not run
the template once per post on every request.

A kept card is the template's own output with the two things that change from one reader or one
minute to the next cut out: the relative time ("3 minutes ago") and the session's CSRF token (in
what other features add, e.g. translate's no-JS form). Everything else it shows is in its key:
the post (a post written here never changes; ids are never reused; a post from elsewhere may be
edited by its author: its HTML is in the key), its author's nickname, server, display name and
e-mail (the avatar), the reader's language and time zone (the exact time in the title), the
site's address prefix, whether the reader may delete it, and what other features add under a
post for this reader (`events.post_card_keys`: translate's "Translate" offer). So every worker
keeps its own cards and they never disagree; a renamed author is a new key, the old card ages out.
"""
from markupsafe import Markup, escape
from quart import current_app, g, request

from .. import events
from ..i18n.times import clock
from ..security import csrf_token
from ..render_cache import SLOT_MARKER, fill_slots, keep_parts

KEPT = 4096  # cards per worker, about 1.5 KB each

async def post_cards(posts) -> Markup:
    """`posts` (authors loaded) as `posts/_post.html` renders each for this reader."""
    reader, user, token = clock(), g.get("user"), csrf_token()
    reader_key = (str(reader.locale), reader.zone_name, request.root_path)
    keys = events.post_card_keys.ask()
    kept = current_app.extensions.setdefault("post_cards", {})  # each app its own (tests make many)
    cards = []
    for post in posts:
        author = post.author
        key = (post.id, post.html, author.nickname, author.domain, author.display_name, author.email, reader_key,
               post.deletable_by(user),
               *(key_of(post) for key_of in keys))
        when = str(escape(reader.relative(post.timestamp)))
        parts = kept.get(key)
        if parts is None:
            parts = await _render(post, user, token, when)
            if parts is None:
                cards.append(await _template().render_async(post=post, current_account=user))
                continue
            keep_parts(kept, key, parts, KEPT)
        cards.append(fill_slots(parts, {"when": when, "token": token}))
    return Markup("".join(cards))


async def _render(post, user, token: str, when: str) -> tuple[str, ...] | None:
    """The card's parts: text, then a slot's name ("when", "token"), text, … (None: not keepable).
    `when` is the relative time the template wrote (escaped), `token` the session's CSRF token."""
    html = await _template().render_async(post=post, current_account=user)
    when = f">{when}</time>"
    if SLOT_MARKER in html or html.count(when) != 1:
        return None
    html = html.replace(when, f">{SLOT_MARKER}when{SLOT_MARKER}</time>").replace(token, f"{SLOT_MARKER}token{SLOT_MARKER}")
    return tuple(html.split(SLOT_MARKER))


def _template():
    return current_app.jinja_env.get_template("posts/_post.html")
