"""Follows: following and unfollowing people, the lists of who follows whom, and the mail that
tells someone about a new follower (mail.py, a listener of events.followed)."""
from quart import Quart

from .. import events
from .mail import NEW_FOLLOWER, queue_new_follower_mail, render_new_follower_mail

from .models import (FollowRefused, FollowState, SelfFollow, answer_request, follow, follow_counts, follow_or_request, follow_states,
                     follow_summary, is_following, unfollow, withdraw)
from .routes import bp

__all__ = ["NEW_FOLLOWER", "FollowRefused", "FollowState", "SelfFollow", "answer_request", "follow", "follow_counts", "follow_or_request",
           "follow_states", "follow_summary", "init_app", "is_following", "queue_new_follower_mail",
           "render_new_follower_mail", "unfollow", "withdraw"]


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
    events.followed.connect(queue_new_follower_mail)
