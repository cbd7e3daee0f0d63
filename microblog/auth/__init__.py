"""Accounts: register, log in and out, reset a forgotten password."""
from functools import wraps

from quart import Blueprint, Quart, g, request
from quart_auth import Unauthorized, current_user, logout_user

from ..db import get_session
from ..models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


async def load_current_user() -> User | None:
    """The logged-in User of this request, or None (loaded once per request)."""
    if "user" not in g:
        g.user = None
        if await current_user.is_authenticated:
            user_id, _sep, _fingerprint = (current_user.auth_id or "").partition(":")
            user = await get_session().get(User, int(user_id)) if user_id.isdigit() else None
            if user is not None and user.auth_id == current_user.auth_id:
                g.user = user
            else:
                logout_user()  # the account is gone, its password changed, or the cookie is not ours
    return g.user


def login_required(view):
    @wraps(view)
    async def wrapper(*args, **kwargs):
        if await load_current_user() is None:
            raise Unauthorized()
        return await view(*args, **kwargs)
    return wrapper


def init_app(app: Quart) -> None:
    """Know who is asking before anything else runs (CSRF refusals and error pages included)."""

    @app.before_request
    async def _record_visit() -> None:
        if request.endpoint == "static":
            return
        user = await load_current_user()
        if user is not None and user.seen_now():  # at most one write a minute
            await get_session().commit()

    @app.context_processor
    def _current_account():
        return {"current_account": g.get("user")}


from . import routes  # noqa: E402,F401
