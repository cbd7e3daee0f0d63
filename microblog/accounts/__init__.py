"""Accounts: users and passwords; register, log in and out, reset a forgotten password."""
import logging
from functools import partial

from quart import Quart, g, request

from ..db import on_commit, separate_transaction
from .access import get_user, load_current_user, login_required
from .models import ABOUT_ME_MAX, EMAIL_MAX, NICKNAME_MAX, AccountConflict, User
from .routes import bp, legacy_login, legacy_logout

__all__ = ["ABOUT_ME_MAX", "EMAIL_MAX", "NICKNAME_MAX", "AccountConflict", "User",
           "get_user", "init_app", "load_current_user", "login_required"]


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
    app.add_url_rule("/login", "legacy_login", legacy_login)
    app.add_url_rule("/logout", "legacy_logout", legacy_logout)

    # Know who is asking before anything else runs (CSRF refusals and error pages included).
    @app.before_request
    async def _record_visit() -> None:
        if request.endpoint == "static":
            return
        user = await load_current_user()
        if user is not None and user.seen_now():  # at most once a minute
            on_commit(partial(_save_visit, user.id, user.last_seen))

    @app.context_processor
    def _current_account():
        return {"current_account": g.get("user")}


async def _save_visit(user_id: int, when) -> None:
    """After the request's commit, in a transaction of its own: "last seen" may be lost (a
    read-only database) without costing the reader their page."""
    try:
        async with separate_transaction() as db:
            await User.record_visit(db, user_id, when)
    except Exception as error:
        logging.getLogger("microblog.accounts").warning("could not record a visit: %s", error)
