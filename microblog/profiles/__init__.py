"""Profiles: a user's page, their card (what htmx shows under their name in a post), and editing one's
own."""
from quart import Quart

from .routes import bp

__all__ = ["init_app"]


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
