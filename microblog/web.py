"""Small helpers every feature uses: htmx detection, page-or-fragment rendering, the answer to an
action, redirects, and parts of pages kept rendered."""
import asyncio
import inspect
from collections.abc import Callable, Hashable
from urllib.parse import urlsplit

from markupsafe import Markup, escape
from quart import (Quart, Response, current_app, flash, g, has_request_context, make_response, redirect,
                   render_template, request, url_for)

from .db import first_line, unavailability
from .i18n import current_locale_code
from .security import csrf_token, safe_next

SLOT = "\x00"  # never in a page: forms refuse control characters, templates and catalogues have none


class App(Quart):
    """Quart, with a time limit on each view: one that takes longer than REQUEST_TIMEOUT seconds
    is cancelled, and its TimeoutError becomes a 503 "busy" with nothing of it saved (errors.py).
    Only the view is timed: the commit after it (db.py) runs to its end, so a request that
    answered "too slow" never saves anything behind its answer. Template context processors that
    are plain functions are called, not sent to a thread."""

    async def dispatch_request(self, request_context=None):
        async with asyncio.timeout(self.config["REQUEST_TIMEOUT"]):
            return await super().dispatch_request(request_context)

    def create_jinja_environment(self):
        environment = super().create_jinja_environment()
        environment.globals["navbar"] = navbar
        return environment

    async def update_template_context(self, context: dict) -> None:
        """As Quart's, but Quart runs a context processor that is a plain function (its own
        default, quart-auth's, ours) in a thread: three thread round trips for every page."""
        names = [None, *reversed(request.blueprints)] if has_request_context() else [None]
        extra: dict = {}
        for name in names:
            for processor in self.template_context_processors[name]:
                values = processor()
                extra.update(await values if inspect.isawaitable(values) else values)
        context.update({**extra, **context})

    def log_exception(self, exception_info) -> None:
        """Passing trouble (a locked or unreachable database, a timeout: answered 503) is one
        line in the log, not a traceback per request while it lasts; anything else in full."""
        error = exception_info[1]
        trouble = unavailability(error)
        if trouble is None:
            return super().log_exception(exception_info)
        where = f"{request.method} {request.path}" if has_request_context() else "outside a request"
        self.logger.warning("503 %s: %s: %s: %s", trouble, where, type(error).__name__, first_line(error))


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def vary_on_htmx(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


async def render(template: str, status: int = 200, headers: dict | None = None,
                 **context) -> Response:
    """A page or a partial (pages include the same partials htmx asks for), marked as
    varying with HX-Request."""
    response = await make_response(await render_template(template, **context), status, headers or {})
    return vary_on_htmx(response)


def see_other(location: str) -> Response:
    """POST then redirect: a refresh never repeats the action."""
    return vary_on_htmx(redirect(location, 303))


async def answer(message: str, location: str, fragment: str = "_announce.html",
                 category: str = "success", **context) -> Response:
    """The answer to an action that worked: for htmx, `fragment` (which announces `message` in
    the #flashes live region); without JavaScript, `message` flashed and a 303 to `location`."""
    if is_htmx():
        return await render(fragment, message=message, **context)
    await flash(message, category)
    return see_other(location)


def same_site_path(url: str | None) -> str | None:
    """The path (and query) of `url` if it points inside this site, else None."""
    try:
        parts = urlsplit(url or "")
    except ValueError:  # e.g. "http://[::1" in a Referer header
        return None
    if parts.netloc != request.host or not parts.path:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def back_or(default_endpoint: str, **values) -> str:
    """Where a no-JS form came from (a page inside the site), else a default page."""
    return (safe_next(request.args.get("next")) or same_site_path(request.referrer)
            or url_for(default_endpoint, **values))


def external_url(endpoint: str, **values) -> str:
    """An absolute URL. With BASE_URL (e.g. https://example.org/microblog) it is right behind a
    proxy, under a prefix and outside any request (mail sent by a background task)."""
    base = current_app.config.get("BASE_URL")
    if base:
        return base + current_app.url_map.bind("").build(endpoint, values)
    return url_for(endpoint, _external=True, **values)


async def kept(template: str, key: Hashable, slots: dict[str, str], limit: int = 256, cut: bool = False,
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
        markers = {} if cut else {name: Markup(f"{SLOT}{name}{SLOT}") for name in slots}
        context.update(make_context() if make_context else {})
        html = await current_app.jinja_env.get_template(template).render_async(**context, **markers)
        if cut:
            if SLOT in html or not all(str(escape(value)) in html for value in slots.values()):
                return Markup(html)  # nothing to cut out: not kept
            for name, value in slots.items():
                html = html.replace(str(escape(value)), f"{SLOT}{name}{SLOT}")
        parts = tuple(html.split(SLOT))
        keep(store, key, parts, limit)
    return Markup(filled(parts, {name: str(escape(value)) for name, value in slots.items()}))


def keep(store: dict, key: Hashable, parts: tuple[str, ...], limit: int) -> None:
    """`parts` kept in `store` under `key`, at most `limit` keys (the oldest goes first); nothing
    in debug, where templates change."""
    if current_app.debug:
        return
    if len(store) >= limit:
        del store[next(iter(store))]
    store[key] = parts


def filled(parts: tuple[str, ...], values: dict[str, str]) -> str:
    """Kept parts (text, a slot's name, text, …) with each slot's value (already escaped)."""
    return "".join(values[part] if index % 2 else part for index, part in enumerate(parts))


async def form_partial(template: str, sent, slots: dict[str, str], fresh: Callable[[], object],
                       cut: bool = False) -> Markup:
    """A form's partial `template`: `sent`, a form as it was sent (what was typed, its errors),
    rendered as it is; or, when None, a fresh form (`fresh()`) kept rendered per language and
    address prefix, its `slots` (tokens, an address) filled in on every call (see `kept`)."""
    if sent is not None:
        return Markup(await current_app.jinja_env.get_template(template).render_async(form=sent, **slots))
    return await kept(template, (current_locale_code(), request.root_path), slots, cut=cut,
                      make_context=lambda: {"form": fresh()})


async def navbar() -> Markup:
    """The navigation bar (`_navbar.html`), the same for every visitor and every logged-in reader
    in one language, but for the CSRF token, the link to one's profile and where the language
    menu returns to."""
    user = g.get("user")
    slots = {"token": csrf_token(), "language_action": url_for("i18n.choose_language", next=request.path),
             "profile_url": url_for("profiles.user", nickname=user.nickname) if user is not None else ""}
    return await kept("_navbar.html", (current_locale_code(), request.root_path, user is not None), slots,
                      logged_in=user is not None)
