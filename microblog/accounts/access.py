"""Who is asking (the logged-in user of this request and their session, the views that need
one) and whom a URL names."""
import logging
from functools import partial, wraps

from quart import abort, g, redirect, request, url_for
from quart_auth import Unauthorized, current_user, logout_user
from sqlalchemy import select

from .. import clock
from ..db import get_session, on_commit, separate_transaction
from .models import User
from .nicknames import NicknameHold
from .sessions import LoginSession

log = logging.getLogger("microblog.accounts")


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
    """The user and their session were seen now (at most once a minute each). Saved after the
    request's commit, in a transaction of its own, so that holding these rows never makes two
    requests wait for each other, and a database that cannot take the write (read-only) costs
    the reader nothing but this "last seen"."""
    user = await load_current_user()
    if user is None:
        return
    now = clock.now()
    user_seen = user.seen_now(now)
    session = g.login_session
    if user_seen or session.visit_due(now):
        on_commit(partial(_save_visit, user.id if user_seen else None, session, now))


async def _save_visit(user_id: int | None, session, now) -> None:
    try:
        async with separate_transaction() as db:
            if user_id is not None:  # the user's row first, then the session's: always this order
                await User.record_visit(db, user_id, now)
            await session.seen_now(db, now)
    except Exception as error:
        log.warning("could not record a visit: %s", error)


def login_required(view):
    @wraps(view)
    async def wrapper(*args, **kwargs):
        if await load_current_user() is None:
            raise Unauthorized()
        return await view(*args, **kwargs)
    return wrapper


async def get_user(nickname: str) -> User:
    """The user a URL names (any case): someone here by nickname, someone from elsewhere known
    here by nick@host; else 404. A nickname held after a rename leads to the same page under
    the new one."""
    db = get_session()
    user = await User.by_handle(db, nickname)
    if user is None:
        renamed = User.nickname_is_valid(nickname) and await db.get(User, await db.scalar(
            select(NicknameHold.holder(nickname))) or 0)
        if not renamed:
            abort(404)
        query = request.query_string.decode()
        location = url_for(request.endpoint, **{**request.view_args, "nickname": renamed.nickname})
        abort(redirect(location + (f"?{query}" if query else "")))
    return user
