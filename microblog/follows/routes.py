"""Follow and unfollow, and the lists of followers and followed users."""
from quart import Blueprint, current_app, g, request, url_for

from ..accounts import User, get_user, load_current_user, login_required
from ..db import get_session
from ..i18n import gettext as _
from ..paging import current_cursor, keyset_page, list_response
from ..web import Refused, answer, back_or, render
from .models import FollowRefused, followed_by, followers, followers_of, follow_or_request, follow_states, withdraw

bp = Blueprint("follows", __name__)


async def _user_list(nickname: str, which: str):
    user = await get_user(nickname)
    query = followers_of(user) if which == "followers" else followed_by(user)
    db = get_session()
    page = await keyset_page(db, query, followers.c.timestamp, User.id, current_cursor(),
                             current_app.config["POSTS_PER_PAGE"],
                             key=lambda row: (row.timestamp, row.User.id))
    states = await follow_states(db, await load_current_user(), [row.User for row in page.items])
    title = (_("Followers of %(nickname)s", nickname=user.handle) if which == "followers"
             else _("Followed by %(nickname)s", nickname=user.handle))
    return await list_response("follows/user_list.html", user=user, which=which, title=title,
                               page=page, item_template="follows/_user_row.html", states=states,
                               older_label=_("More"), newer_label=_("Back"))


@bp.route("/user/<nickname>/followers")
async def followers_list(nickname: str):
    """Who follows `nickname`, most recent first."""
    return await _user_list(nickname, "followers")


@bp.route("/user/<nickname>/following")
async def following_list(nickname: str):
    """Whom `nickname` follows, most recent first."""
    return await _user_list(nickname, "following")


@bp.route("/follow/<nickname>", methods=["GET", "POST"])  # the tutorial's address
@bp.route("/user/<nickname>/follow", methods=["GET", "POST"])
@login_required
async def follow_user(nickname: str):
    """Follow `nickname` (someone elsewhere: ask to); following twice is a quiet success."""
    return await _follow_action(nickname, following=True)


@bp.route("/unfollow/<nickname>", methods=["GET", "POST"])  # the tutorial's address
@bp.route("/user/<nickname>/unfollow", methods=["GET", "POST"])
@login_required
async def unfollow_user(nickname: str):
    """Stop following `nickname`, or take back a request; unfollowing someone not followed is a
    quiet success."""
    return await _follow_action(nickname, following=False)


async def _follow_action(nickname: str, following: bool):
    db = get_session()
    user = await User.by_handle(db, nickname)
    if user is None:
        # A name that could be someone's is said back; any other text is not (no phishing
        # sentences in the site's own alert, no cookie-sized flashes).
        message = (_("User %(nickname)s not found.", nickname=nickname) if User.nickname_is_valid(nickname)
                   else _("User not found."))
        raise Refused(404, message, url_for("posts.index"))
    if request.method == "GET":  # an old link: confirm, since no GET changes anything
        return await render("follows/confirm_follow.html", user=user, follow=following,
                            title=_("Follow %(nickname)s", nickname=user.handle) if following
                            else _("Unfollow %(nickname)s", nickname=user.handle))
    if user.id == g.user.id:
        raise Refused(400, _("You cannot follow yourself!"), url_for("profiles.user", nickname=user.handle))
    if following:
        try:
            await follow_or_request(db, g.user, user)
        except FollowRefused as refusal:
            raise Refused(403, str(refusal), url_for("profiles.user", nickname=user.handle)) from refusal
    withdrawn = None if following else await withdraw(db, g.user, user)
    state = (await follow_states(db, g.user, [user]))[user.id]
    if withdrawn == "request":
        message = _("You no longer ask to follow %(nickname)s.", nickname=user.handle)
    elif state.requested_by_viewer:
        message = _("You asked to follow %(nickname)s. Their server will answer.", nickname=user.handle)
    elif state.followed_by_viewer:
        message = _("You are now following %(nickname)s!", nickname=user.handle)
    else:
        message = _("You are not following %(nickname)s anymore.", nickname=user.handle)
    return await answer(message, back_or("profiles.user", nickname=user.handle),
                        fragment="follows/_follow_changed.html", user=user, state=state, focus=True)
