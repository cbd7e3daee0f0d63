"""Who is asking (the logged-in user of this request and their session, the views that need
one) and whom a URL names."""
from functools import wraps

from quart import abort, g
from quart_auth import Unauthorized, current_user, logout_user

from ..db import get_session
from .models import User
from .sessions import LoginSession


async def load_current_user() -> User | None:
    """The logged-in User of this request, or None (loaded once per request). The log-in cookie
    names a session that must still be live on the server (g.login_session)."""
    if "user" not in g:
        g.user = g.login_session = None
        if await current_user.is_authenticated:
            found = await LoginSession.find(get_session(), current_user.auth_id or "")
            if found is not None:
                g.login_session, g.user = found
            else:
                logout_user()  # logged out, ended, expired, the password changed, or not ours
    return g.user


async def record_visit() -> None:
    """The user and their session were seen now (at most one write a minute each, committed
    with the request). The user's row first, then the session's, in every request: two
    requests never wait for each other's row the other way round."""
    user = await load_current_user()
    if user is not None:
        db = get_session()
        if user.seen_now():
            await db.flush()
        await g.login_session.seen_now(db)


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
