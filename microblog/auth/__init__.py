"""Accounts: register, log in and out, reset a forgotten password."""
from functools import wraps

from quart import Blueprint, g
from quart_auth import Unauthorized, current_user, logout_user

from ..db import get_session
from ..models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


async def load_current_user() -> User | None:
    """The logged-in User of this request, or None (loaded once per request)."""
    if "user" not in g:
        g.user = None
        if await current_user.is_authenticated:
            try:
                g.user = await get_session().get(User, int(current_user.auth_id))
            except ValueError:
                g.user = None
            if g.user is None:
                logout_user()  # the account is gone, or the cookie is not ours
    return g.user


def login_required(view):
    @wraps(view)
    async def wrapper(*args, **kwargs):
        if await load_current_user() is None:
            raise Unauthorized()
        return await view(*args, **kwargs)
    return wrapper


from . import routes  # noqa: E402,F401
