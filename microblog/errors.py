"""Error pages: full pages for browsers, small fragments for htmx requests (the app's handlers;
the `Refused` exception and `error_response` that views use live in web.py)."""
from quart import Quart, flash, g, redirect, request, session, url_for
from quart_auth import Unauthorized
from werkzeug.exceptions import HTTPException

from . import db
from .accounts import load_current_user
from .i18n import gettext as _
from .security import CSRFError
from .web import Refused, error_response, is_htmx, render, same_site_path, see_other, vary_on_htmx


def init_app(app: Quart) -> None:
    @app.errorhandler(Unauthorized)
    async def _need_login(_error):
        login = url_for("accounts.login", next=_page_to_return_to())
        if is_htmx():
            response = await render("errors/_fragment.html", status=401,
                                            message=_("Please log in to access this page."))
            response.headers["HX-Redirect"] = login
            return response
        await flash(_("Please log in to access this page."), "info")
        return vary_on_htmx(redirect(login))  # htmx gets a 401 instead: caches must tell them apart

    @app.errorhandler(Refused)
    async def _refused(refusal: Refused):
        if is_htmx():
            return await error_response(refusal.status, refusal.message, refusal.message)
        await flash(refusal.message, "warning")
        return see_other(refusal.location)

    @app.errorhandler(CSRFError)
    async def _csrf_failed(_error):
        message = _("Your session has expired or the form was not sent by this site. "
                    "Please reload the page and try again.")
        return await error_response(400, _("Bad request"), message)

    @app.errorhandler(HTTPException)
    async def _http_error(error: HTTPException):
        messages = {
            404: (_("Page not found"), _("Sorry, that page does not exist.")),
            403: (_("Forbidden"), _("You are not allowed to do that.")),
            405: (_("Method not allowed"), _("That action is not available here.")),
            400: (_("Bad request"), _("The request could not be understood.")),
            413: (_("Too much data"), _("What you sent is too large.")),
        }
        title, message = messages.get(error.code, (error.name, error.description))
        return await error_response(error.code or 500, title, message)

    @app.errorhandler(500)
    async def _server_error(error):
        # Nothing of the failed request is saved (a failed commit ends here too), and none of
        # its messages is shown: "Your post is now live!" must not follow a lost post.
        await db.discard_request_session()
        session.pop("_flashes", None)
        trouble = db.unavailability(getattr(error, "original_exception", None))
        # The rollback expired the logged-in user; the layout needs them again, from a fresh
        # session (not when the database cannot be reached: that would only wait for it again).
        g.pop("user", None)
        if trouble == "unreachable":
            g.user = None
        else:
            try:
                await load_current_user()
            except Exception:  # the database itself may be what failed
                app.logger.warning("could not reload the user for the error page", exc_info=True)
                g.user = None
        if trouble == "disk-full":
            return await _unavailable(_("The server's disk is full"), _(
                "The server's disk is full: you can read, but nothing can be saved until space is freed. "
                "Please try again later."))
        if trouble == "read-only":
            return await _unavailable(_("The site is read-only for now"), _(
                "You can read, but nothing can be saved at the moment. Please try again later."))
        if trouble == "busy":
            return await _unavailable(_("The site is busy"), _(
                "The site is busy at the moment. Please try again in a moment."))
        if trouble == "unreachable":
            return await _unavailable(_("The site is having trouble"), _(
                "The site cannot reach its database at the moment. Please try again in a minute."))
        message = (_("The administrator has been notified. Sorry for the inconvenience!")
                   if app.config["ADMINS"] else _("Sorry for the inconvenience! Please try again later."))
        return await error_response(500, _("An unexpected error has occurred"), message)


async def _unavailable(title: str, message: str):
    """A passing trouble: 503, and when to try again."""
    response = await error_response(503, title, message)
    response.headers["Retry-After"] = "60"
    return response


def _page_to_return_to() -> str:
    """The page to come back to after logging in. For htmx and form posts it is the page the
    request came from: the request's own URL may be a POST-only action."""
    if request.method == "GET" and not is_htmx():
        return request.script_root + request.full_path.rstrip("?")  # the prefix the site is served under too
    came_from = request.headers.get("HX-Current-URL") if is_htmx() else request.referrer
    return same_site_path(came_from) or url_for("posts.index")
