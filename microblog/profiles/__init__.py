"""Profiles: a user's page, and editing one's own."""
from quart import Quart

from .routes import bp

__all__ = ["init_app"]


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
