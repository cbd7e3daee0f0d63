"""Accounts: users and passwords; register, log in and out, reset a forgotten password."""
from quart import Quart, g, request

from ..db import get_session
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
        if user is not None:
            user.seen_now()  # at most one write a minute, committed with the request

    @app.context_processor
    def _current_account():
        return {"current_account": g.get("user")}
