"""The social core: timeline, explore, profiles, follows and posts."""
from quart import Blueprint

bp = Blueprint("main", __name__)

from . import routes  # noqa: E402,F401
