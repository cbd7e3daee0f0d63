"""GET /avatar/<user id>.svg (and .png, for servers elsewhere): a user's identicon, served by the
site itself; GET /avatar/<user id>/<digest>: their own picture, where the site keeps one."""
import hashlib

from quart import Blueprint, Response, abort, redirect, request

from ..accounts import User
from ..db import get_session
from .identicon import identicon_png, identicon_svg
from .models import Picture

bp = Blueprint("avatars", __name__)

# Bump when the pictures change: every avatar URL changes with it, so browsers that keep the old
# pictures "immutable" for a year fetch the new ones.
IDENTICON_VERSION = 1
ONE_YEAR = 365 * 24 * 3600
CACHE_CONTROL = f"public, max-age={ONE_YEAR}, immutable"
# Opened on its own (not as an <img>), an SVG is a document: it may run nothing and load nothing.
SVG_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


def identicon_seed(user_id: int) -> str:
    """Only the id, which never changes (a rename keeps the picture) and is in the URL already."""
    return f"microblog identicon {user_id}"


@bp.route("/avatar/<int(max=2147483647):user_id>.svg")  # the largest INTEGER id
async def identicon(user_id: int):
    """The identicon of user `user_id` (404 if there is no such user), cached for a year."""
    if await get_session().get(User, user_id) is None:
        abort(404)
    return _picture(identicon_svg(identicon_seed(user_id)).encode(), "image/svg+xml; charset=utf-8")


@bp.route("/avatar/<int(max=2147483647):user_id>.png")
async def identicon_as_png(user_id: int):
    """The same picture as a PNG (the actor document's icon: Mastodon shows no SVG)."""
    if await get_session().get(User, user_id) is None:
        abort(404)
    return _picture(identicon_png(identicon_seed(user_id)), "image/png")


@bp.route("/avatar/<int(max=2147483647):user_id>/<string(length=32):digest>")
async def picture(user_id: int, digest: str):
    """The picture kept for user `user_id` (`digest` names it: cached for a year); a page kept from
    before it changed is sent to the current one."""
    found = await get_session().get(Picture, user_id)
    if found is None or found.digest != digest:
        user = await get_session().get(User, user_id)
        if user is None:
            abort(404)
        from . import avatar_url  # the current picture, or the identicon
        return redirect(avatar_url(user, 0), 302)
    return _picture(found.data, found.content_type)


def _picture(body: bytes, content_type: str) -> Response:
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = {"Cache-Control": CACHE_CONTROL, "Content-Security-Policy": SVG_POLICY,
               "X-Content-Type-Options": "nosniff"}
    unchanged = request.if_none_match.contains_weak(etag)  # RFC 9110: weak comparison
    response = Response(b"" if unchanged else body, status=304 if unchanged else 200,
                        content_type=content_type, headers=headers)
    response.set_etag(etag)
    return response
