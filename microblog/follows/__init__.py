"""Follows: following and unfollowing people, and the lists of who follows whom."""
from quart import Quart

from .models import (FollowState, SelfFollow, follow, follow_counts, follow_states, follow_summary, is_following,
                     unfollow)
from .routes import bp

__all__ = ["FollowState", "SelfFollow", "follow", "follow_counts", "follow_states", "follow_summary", "init_app",
           "is_following", "unfollow"]


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
