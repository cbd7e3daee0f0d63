"""The sessions page: where one is logged in, and ending the sessions one does not want."""
from quart import abort, flash, g, make_response, url_for
from quart_auth import logout_user

from ..db import get_session
from ..i18n import gettext as _
from ..web import answer, is_htmx, render, see_other, vary_on_htmx
from .access import login_required
from .routes import bp
from .sessions import ID_PATTERN, LoginSession


async def _sessions_answer(message: str):
    """For htmx, the list again (the ended sessions gone) with `message` announced; without
    JavaScript, `message` flashed on the sessions page."""
    listed = await LoginSession.of_user(get_session(), g.user) if is_htmx() else []
    return await answer(message, url_for("accounts.sessions"), fragment="accounts/_sessions_changed.html",
                        sessions=listed, current=g.login_session.id, focus=True)


@bp.route("/sessions")
@login_required
async def sessions():
    """The browsers one is logged in on (this one marked), with a way to end the others."""
    listed = await LoginSession.of_user(get_session(), g.user)
    return await render("accounts/sessions.html", sessions=listed, current=g.login_session.id,
                        title=_("Your sessions"))


@bp.route("/sessions/<session_id>/end", methods=["POST"])
@login_required
async def end_session(session_id: str):
    """End one of one's own sessions: that browser is logged out at its next request. Ending it
    twice, or one that is not one's own, changes nothing and says the same."""
    if not ID_PATTERN.fullmatch(session_id):
        abort(404)
    db = get_session()
    await LoginSession.end(db, g.user, session_id)
    if session_id == g.login_session.id:  # this browser's own: logging out
        logout_user()
        await flash(_("You have been logged out."), "info")
        if is_htmx():  # htmx goes to the log-in page as a whole page
            return vary_on_htmx(await make_response("", 200, {"HX-Redirect": url_for("accounts.login")}))
        return see_other(url_for("accounts.login"))
    return await _sessions_answer(_("The session has been ended."))


@bp.route("/sessions/end-others", methods=["POST"])
@login_required
async def end_other_sessions():
    """End every session but this browser's."""
    await LoginSession.end_others(get_session(), g.user, keep=g.login_session.id)
    return await _sessions_answer(_("All your other sessions have been ended."))

