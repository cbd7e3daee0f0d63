"""Avatars: identicons drawn and served by the site (the default), or Gravatar when the site's
owner asks for it (AVATARS=gravatar, which sends each shown user's e-mail hash to gravatar.com).

Templates show a picture with the global `avatar(user, size)` (`avatar_url`), so they need not know
which; a feature with other people's pictures (federation) extends that one function.
"""
import hashlib

from quart import Quart, current_app, url_for

from ..security import allow_images_from
from ..web import external_url
from .identicon import identicon_svg
from .models import PICTURE_MAX, Picture, drop_picture, keep_picture
from .routes import IDENTICON_VERSION, bp

__all__ = ["AVATAR_SOURCES", "PICTURE_MAX", "Picture", "avatar_url", "drop_picture", "identicon_svg", "init_app", "keep_picture"]

AVATAR_SOURCES = ("identicon", "gravatar")
GRAVATAR = "https://www.gravatar.com"


def avatar_url(user, size: int, external: bool = False) -> str:
    """Where the picture of `user`, shown `size` pixels square, comes from (`external`: an
    absolute URL, for mail): their own (kept here), else Gravatar or an identicon."""
    if user.picture:
        if external:
            return external_url("avatars.picture", user_id=user.id, digest=user.picture)
        return url_for("avatars.picture", user_id=user.id, digest=user.picture)
    if current_app.config.get("AVATARS", "identicon") == "gravatar" and user.email:
        digest = hashlib.md5(user.email.strip().lower().encode()).hexdigest()
        return f"{GRAVATAR}/avatar/{digest}?d=identicon&s={int(size)}"
    # One picture for every size (it is an SVG): one download per user.
    if external:
        return external_url("avatars.identicon", user_id=user.id, v=IDENTICON_VERSION)
    # The query written here: werkzeug's query encoding doubled the cost of a post's avatar.
    return f"{url_for('avatars.identicon', user_id=user.id)}?v={IDENTICON_VERSION}"


def init_app(app: Quart) -> None:
    source = app.config.setdefault("AVATARS", "identicon")
    if source not in AVATAR_SOURCES:
        raise RuntimeError(f"AVATARS is {source!r}; it must be one of: {', '.join(AVATAR_SOURCES)}.")
    app.register_blueprint(bp)
    app.jinja_env.globals["avatar"] = avatar_url
    if source == "gravatar":
        allow_images_from(app, GRAVATAR)
