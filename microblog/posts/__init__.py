"""Posts: publishing and deleting them, the home timeline and explore."""
from quart import Quart

from .models import POST_MAX, Post
from .routes import bp, get_post, post_list

__all__ = ["POST_MAX", "Post", "get_post", "init_app", "post_list"]


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
