"""Blocks: what a person here keeps away from themselves.

  models.py   accounts one blocks (here or elsewhere), servers one hides; the rule that no follow
              stands across either (events.follow_refused), and the filter lists of others'
              posts carry for those who block (events.hidden_posts)
  routes.py   Block / Unblock and Hide / Show on a profile (a box registered at
              "profile.actions"), with a confirmation for the no-JS GET; the settings page

Blocking someone elsewhere sends their server a Block (federation/blocking.py, a listener of
events.blocked); the operator's blocks of whole servers are federation's (domain_blocks.py)."""
from quart import Quart

from .. import events
from ..accounts import load_current_user
from ..db import get_session
from ..web import add_partial
from .models import (BlockState, block, block_state, hidden_posts_filter, kept_by_blocks, hide_domain, show_domain, unblock,
                     why_no_follow)
from .routes import bp

__all__ = ["BlockState", "block", "hide_domain", "init_app", "show_domain", "unblock"]


async def viewer_block_state(user) -> BlockState | None:
    """The block box of `user`'s profile for whoever reads it (templates)."""
    return await block_state(get_session(), await load_current_user(), user)


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["block_state"] = viewer_block_state
    add_partial(app, "profile.actions", "blocks/_block_box.html")
    add_partial(app, "settings.links", "blocks/_settings_link.html")
    events.follow_refused.connect(why_no_follow)
    events.hidden_posts.connect(hidden_posts_filter)
    events.people_kept.connect(kept_by_blocks)
