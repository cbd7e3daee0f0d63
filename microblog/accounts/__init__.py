"""Accounts: users, passwords, log-in sessions and throttles; register, log in and out, reset a
forgotten password, see and end one's sessions."""
import warnings
from urllib.parse import urlsplit

from quart import Quart, g, request

from . import cli
from .access import get_user, load_current_user, login_required, record_visit
from .models import ABOUT_ME_MAX, DISPLAY_NAME_MAX, EMAIL_MAX, NICKNAME_MAX, AccountConflict, LocalUser, User
from .routes import bp, legacy_login, legacy_logout
from . import session_routes  # noqa: F401  (its views join the blueprint)

__all__ = ["ABOUT_ME_MAX", "DISPLAY_NAME_MAX", "EMAIL_MAX", "NICKNAME_MAX", "AccountConflict", "LocalUser", "User",
           "get_user", "init_app", "load_current_user", "login_required", "secure_cookie_warning"]


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
    cli.register_cli(app)
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

    # quart-auth warns at every log-in over http, though browsers keep Secure cookies from
    # http://localhost (the README's run command): said once, plainly, only where it matters.
    warnings.filterwarnings("ignore", message="Secure cookies will be ignored on insecure requests")

    @app.before_serving
    async def _explain_secure_cookies() -> None:
        if warning := secure_cookie_warning(app.config):
            app.logger.warning(warning)


def secure_cookie_warning(config) -> str | None:
    """What to say when log-in cookies are Secure (SECURE_COOKIES=1) but the site is plain http
    at an address other than this machine's: browsers will not keep them, so no one can log in."""
    base = urlsplit(config.get("BASE_URL") or "")
    if not config["QUART_AUTH_COOKIE_SECURE"] or base.scheme != "http" or base.hostname in LOCAL_HOSTS:
        return None
    return (f"BASE_URL is plain http ({config['BASE_URL']}) and cookies are Secure: browsers will not keep "
            "the log-in cookie there, so logging in will fail. Serve https, or set SECURE_COOKIES=0 "
            "(a home network without TLS).")


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")

