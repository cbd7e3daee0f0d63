"""Accounts: users, passwords, log-in sessions and throttles; register, log in and out, reset a
forgotten password, see and end one's sessions."""
from quart import Quart, g, request

from .access import get_user, load_current_user, login_required, record_visit
from .models import ABOUT_ME_MAX, DISPLAY_NAME_MAX, EMAIL_MAX, NICKNAME_MAX, AccountConflict, LocalUser, User
from .routes import bp, legacy_login, legacy_logout
from . import session_routes  # noqa: F401  (its views join the blueprint)

__all__ = ["ABOUT_ME_MAX", "DISPLAY_NAME_MAX", "EMAIL_MAX", "NICKNAME_MAX", "AccountConflict", "LocalUser", "User",
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
        await record_visit()

    @app.context_processor
    def _current_account():
        return {"current_account": g.get("user")}

