"""A post as lists show it (`posts/_post.html`), kept rendered so that a page of posts does not run
the template once per post on every request.

A kept card is the template's own output with the two things that change from one reader or one
minute to the next cut out: the relative time ("3 minutes ago") and the session's CSRF token.
Everything else it shows is in its key: the post (posts never change; ids are never reused), its
author's nickname and e-mail (the avatar), the reader's language and time zone (the exact time in
the title), the site's address prefix, whether the reader may delete it, and what other features
add under a post for this reader (`card_variants`: translate's "Translate" offer). So every worker
keeps its own cards and they never disagree; a change of nickname is a new key, the old card ages
out.
"""
from collections.abc import Callable, Hashable

from markupsafe import Markup, escape
from quart import current_app, g, request

from ..i18n.times import clock
from ..security import csrf_token
from ..web import SLOT, filled, keep

KEPT = 4096  # cards per worker, about 1.5 KB each

# What other features show under a post that differs by reader: callables registered by those
# features' init_app (so posts imports none of them), each called once per page and answering a
# function of a post that gives something hashable (translate: whether "Translate" is offered).
card_variants: list[Callable[[], Callable[[object], Hashable]]] = []


async def post_cards(posts) -> Markup:
    """`posts` (authors loaded) as `posts/_post.html` renders each for this reader."""
    reader, user, token = clock(), g.get("user"), csrf_token()
    reader_key = (str(reader.locale), reader.zone_name, request.root_path)
    variants = [variant() for variant in card_variants]
    kept = current_app.extensions.setdefault("post_cards", {})  # each app its own (tests make many)
    cards = []
    for post in posts:
        author = post.author
        key = (post.id, author.nickname, author.email, reader_key, post.deletable_by(user),
               *(variant(post) for variant in variants))
        when = str(escape(reader.relative(post.timestamp)))
        parts = kept.get(key)
        if parts is None:
            parts = await _render(post, user, token, when)
            if parts is None:
                cards.append(await _template().render_async(post=post, current_account=user))
                continue
            keep(kept, key, parts, KEPT)
        cards.append(filled(parts, {"when": when, "token": token}))
    return Markup("".join(cards))


async def _render(post, user, token: str, when: str) -> tuple[str, ...] | None:
    """The card's parts: text, then a slot's name ("when", "token"), text, … (None: not keepable).
    `when` is the relative time the template wrote (escaped), `token` the session's CSRF token."""
    html = await _template().render_async(post=post, current_account=user)
    when = f">{when}</time>"
    if SLOT in html or html.count(when) != 1:
        return None
    html = html.replace(when, f">{SLOT}when{SLOT}</time>").replace(token, f"{SLOT}token{SLOT}")
    return tuple(html.split(SLOT))


def _template():
    return current_app.jinja_env.get_template("posts/_post.html")
