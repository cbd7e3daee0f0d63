"""A user's profile page, their card (shown beside their name in posts), and editing one's own."""
from quart import Blueprint, flash, g, redirect, request, url_for

from ..accounts import AccountConflict, get_user, load_current_user, login_required
from ..accounts.forms import nickname_taken_error
from ..db import get_session
from ..follows import follow_summary
from ..i18n import gettext as _
from ..posts import Post, post_list
from ..web import is_htmx, render, see_other, vary_on_htmx
from .forms import EditProfileForm

bp = Blueprint("profiles", __name__)


@bp.route("/user/<nickname>")
async def user(nickname: str):
    """Who they are, their follow box, and their posts."""
    user = await get_user(nickname)
    viewer = await load_current_user()
    state, following_count = await follow_summary(get_session(), user, viewer)
    return await post_list("profiles/user.html", Post.by_author(user, viewer), user=user, state=state,
                           following_count=following_count, title=user.handle)


@bp.route("/user/<nickname>/card")
async def card(nickname: str):
    """Who they are in a few lines, with their follow box: what htmx shows when their name is
    rested on or focused (posts/_post.html). Without htmx there is no card: their profile."""
    user = await get_user(nickname)
    if not is_htmx():
        return vary_on_htmx(redirect(url_for("profiles.user", nickname=user.handle)))
    db = get_session()
    state, following_count = await follow_summary(db, user, await load_current_user())
    return await render("profiles/_card.html", user=user, state=state,
                        following_count=following_count, post_count=await Post.count_by(db, user))


@bp.route("/edit_profile", methods=["GET", "POST"])
@login_required
async def edit_profile():
    """Change one's nickname, about-me, time zone and mail settings; a taken nickname gets a free suggestion."""
    form = await EditProfileForm.from_request(obj=g.user)
    if request.method == "POST" and form.validate():
        db = get_session()
        g.user.notify_new_followers = form.notify_new_followers.data
        g.user.timezone = form.timezone.data or None
        try:
            await g.user.update_profile(db, form.nickname.data, form.about_me.data, form.display_name.data)
        except AccountConflict:
            await nickname_taken_error(db, form.nickname)
        else:
            await flash(_("Your changes have been saved."), "success")
            return see_other(url_for("profiles.edit_profile"))
    status = 422 if form.errors else 200
    return await render("profiles/edit_profile.html", form=form, status=status, title=_("Edit Profile"))


# Old URLs people bookmarked.

@bp.route("/edit")
async def legacy_edit():
    return redirect(url_for("profiles.edit_profile"), 301)


@bp.route("/user/<nickname>/<int:page>")
async def legacy_user_page(nickname: str, page: int):
    return redirect(url_for("profiles.user", nickname=nickname), 301)
