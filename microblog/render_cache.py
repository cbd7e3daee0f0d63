"""Parts of pages rendered once and kept (per app, in each worker), with what changes from one
request to the next (a CSRF token, an address, a relative time) filled into slots on every call:
the navbar, the fresh post and log-in forms, post cards (posts/cards.py). What a kept part
shows must be fixed by its key; nothing is kept in debug, where templates change.
"""
from collections.abc import Callable, Hashable

from markupsafe import Markup, escape
from quart import current_app, g, request, url_for

from .i18n.locales import current_locale_code
from .security import csrf_token

SLOT_MARKER = "\x00"  # never in a page: forms refuse control characters, templates and catalogues have none


async def render_kept(template: str, key: Hashable, slots: dict[str, str], limit: int = 256, cut: bool = False,
                      make_context: Callable[[], dict] | None = None, **context) -> Markup:
    """`template` rendered once per `key` (in each app) and kept, the `slots` filled in on every
    call: each is a variable the template shows, given to it as a marker when it renders and
    replaced by the value here (escaped); with `cut`, the template renders with `context` alone
    and each slot's value (a random token, found nowhere else) is cut out of what it wrote.
    `make_context()`, if given, adds to `context` when the template renders (what costs to build
    and is not needed once kept). `key` must hold all else the output depends on that is not
    fixed for the app (the language, the address prefix); at most `limit` keys per template. In
    debug nothing is kept: templates change."""
    store = current_app.extensions.setdefault("kept", {}).setdefault(template, {})
    parts = store.get(key)
    if parts is None:
        markers = {} if cut else {name: Markup(f"{SLOT_MARKER}{name}{SLOT_MARKER}") for name in slots}
        context.update(make_context() if make_context else {})
        html = await current_app.jinja_env.get_template(template).render_async(**context, **markers)
        if cut:
            if SLOT_MARKER in html or not all(str(escape(value)) in html for value in slots.values()):
                return Markup(html)  # nothing to cut out: not kept
            for name, value in slots.items():
                html = html.replace(str(escape(value)), f"{SLOT_MARKER}{name}{SLOT_MARKER}")
        parts = tuple(html.split(SLOT_MARKER))
        keep_parts(store, key, parts, limit)
    return Markup(fill_slots(parts, {name: str(escape(value)) for name, value in slots.items()}))


def keep_parts(store: dict, key: Hashable, parts: tuple[str, ...], limit: int) -> None:
    """`parts` kept in `store` under `key`, at most `limit` keys (the oldest goes first); nothing
    in debug, where templates change."""
    if current_app.debug:
        return
    if len(store) >= limit:
        del store[next(iter(store))]
    store[key] = parts


def fill_slots(parts: tuple[str, ...], values: dict[str, str]) -> str:
    """Kept parts (text, a slot's name, text, …) with each slot's value (already escaped)."""
    return "".join(values[part] if index % 2 else part for index, part in enumerate(parts))


async def form_partial(template: str, sent, slots: dict[str, str], fresh: Callable[[], object],
                       cut: bool = False) -> Markup:
    """A form's partial `template`: `sent`, a form as it was sent (what was typed, its errors),
    rendered as it is; or, when None, a fresh form (`fresh()`) kept rendered per language and
    address prefix, its `slots` (tokens, an address) filled in on every call (see `render_kept`)."""
    if sent is not None:
        return Markup(await current_app.jinja_env.get_template(template).render_async(form=sent, **slots))
    return await render_kept(template, (current_locale_code(), request.root_path), slots, cut=cut,
                      make_context=lambda: {"form": fresh()})


async def navbar() -> Markup:
    """The navigation bar (`_navbar.html`), the same for every visitor and every logged-in reader
    in one language, but for the CSRF token, the link to one's profile and where the language
    menu returns to."""
    user = g.get("user")
    slots = {"token": csrf_token(), "language_action": url_for("i18n.choose_language", next=request.path),
             "profile_url": url_for("profiles.user", nickname=user.nickname) if user is not None else ""}
    return await render_kept("_navbar.html", (current_locale_code(), request.root_path, user is not None), slots,
                      logged_in=user is not None)
