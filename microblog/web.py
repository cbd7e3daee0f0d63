"""Small helpers every feature uses: htmx detection, page-or-fragment rendering, the answer to an
action or the refusal of one, redirects. (Parts of pages kept rendered: render_cache.py.)"""
import asyncio
import inspect
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from quart import (Quart, Response, current_app, flash, has_request_context, make_response, redirect,
                   render_template, request, url_for)

from .db import first_line, unavailability
from .logs import Repeats
from .security import safe_next


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
        environment.globals["partials"] = {}  # add_partial
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
        line in the log, not a traceback per request while it lasts (2,643 in 12 s when PostgreSQL
        refused connections): the first of a kind, then a line a minute counting the others.
        Anything else in full."""
        error = exception_info[1]
        trouble = unavailability(error)
        if trouble is None:
            return super().log_exception(exception_info)
        where = f"{request.method} {request.path}" if has_request_context() else "outside a request"
        self.passing_trouble.log(logging.WARNING, (trouble, type(error).__name__), f"503 {trouble}",
                                 "requests answered 503",
                                 f"503 {trouble}: {where}: {type(error).__name__}: {first_line(error)}")

    @property
    def passing_trouble(self) -> Repeats:
        return self.extensions.setdefault("passing_trouble", Repeats(self.logger))

    async def process_response(self, response, request_context=None):
        self.passing_trouble.flush()  # the count of a trouble that has passed is not left unsaid
        return await super().process_response(response, request_context)


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


class Refused(Exception):
    """A request that cannot be done (a post that is gone, following oneself): for htmx a short
    message next to what was clicked, without JavaScript a flash and a 303 to `location`
    (answered by errors.py)."""

    def __init__(self, status: int, message: str, location: str):
        super().__init__(message)
        self.status, self.message, self.location = status, message, location


async def error_response(status: int, title: str, message: str):
    """The error page, or for htmx only the message (never a page inside a small target): htmx
    swaps no 4xx/5xx answer (noSwap in base.html), and static/app.js, the one place that decides
    where messages go, shows the fragment's text next to what was clicked."""
    if is_htmx():
        return await render("errors/_fragment.html", status=status, message=message)
    return await render("errors/error.html", status=status, title=title, message=message)


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


def keep_choice(response: Response, name: str, value: str) -> Response:
    """A reader's choice (the language, the colours) kept a year in a cookie of its own."""
    response.set_cookie(name, value, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=current_app.config["QUART_AUTH_COOKIE_SECURE"])
    return response


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


def add_partial(app: Quart, place: str, template: str) -> None:
    """Show `template` at `place` of the site's pages (`{% for part in partials[place] %}`), e.g.
    "post.under" (below each post: translate's offer): how one feature adds to what another
    shows, without either naming the other."""
    places = app.jinja_env.globals["partials"]
    if template not in places.setdefault(place, []):
        places[place].append(template)


@dataclass(frozen=True)
class LookedUp:
    """What a look-up found for a search (add_lookup): where to go, or why nothing was found."""

    url: str | None = None
    message: str | None = None


def add_lookup(app: Quart, lookup) -> None:
    """Let the search box find more than posts: `await lookup(text, person)` is asked, when a
    logged-in person submits a search, for a LookedUp, or None when `text` is nothing it finds
    (federation: someone elsewhere, by handle or address). Active search never asks."""
    found = app.extensions.setdefault("lookups", [])
    if lookup not in found:
        found.append(lookup)


def lookups(app: Quart) -> list:
    return app.extensions.get("lookups", [])
