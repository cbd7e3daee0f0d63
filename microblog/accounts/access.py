"""Who is asking (the logged-in user of this request, the views that need one) and whom a URL
names."""
from functools import wraps

from quart import abort, g
from quart_auth import Unauthorized, current_user, logout_user

from ..db import get_session
from .models import User


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


async def get_user(nickname: str) -> User:
    """The user a URL names (any case), or 404."""
    user = await User.by_nickname(get_session(), nickname)
    if user is None:
        abort(404)
    return user
