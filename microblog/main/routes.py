from quart import abort, current_app, flash, g, redirect, request, url_for
from quart_babel import gettext as _

from ..auth import load_current_user, login_required
from ..db import get_session
from ..errors import error_response
from ..forms import nickname_taken_error
from ..models import AccountConflict, FollowState, Post, User, followers
from ..paging import Cursor, keyset_page
from ..web import back_or, is_htmx, render, see_other
from . import bp
from .forms import EditProfileForm, PostForm


def _cursor() -> Cursor | None:
    return Cursor.decode(request.args.get("cursor"))


async def _list_response(template: str, status: int = 200, **context):
    """A page with a list; for htmx's infinite scroll, only the next page and its sentinel."""
    if is_htmx() and request.args.get("cursor"):
        return await render("_page.html", **context)
    return await render(template, status=status, **context)


async def _post_list(template: str, query, status: int = 200, **context):
    page = await keyset_page(get_session(), query, Post.timestamp, Post.id, _cursor(),
                             current_app.config["POSTS_PER_PAGE"])
    context.setdefault("list_endpoint", request.endpoint)
    return await _list_response(template, status, page=page, item_template="_post.html", **context)


@bp.route("/", methods=["GET", "POST"])
@bp.route("/index", methods=["GET", "POST"])
@login_required
async def index():
    if request.method == "POST":
        return await _publish()
    return await _post_list("main/index.html", g.user.timeline(), form=PostForm(), title=_("Home"))


@bp.route("/post", methods=["POST"])
@login_required
async def post():
    return await _publish()


async def _publish():
    form = await PostForm.from_request()
    if not form.validate():
        if is_htmx():
            return await render("_post_form.html", form=form, status=422, headers={
                "HX-Retarget": "#post-form", "HX-Reswap": "outerHTML"})
        # Without JavaScript: the page again, with the text kept and the error shown.
        return await _post_list("main/index.html", g.user.timeline(), form=form, status=422,
                                title=_("Home"), list_endpoint="main.index")
    post = await Post.publish(get_session(), g.user, form.post.data)
    if is_htmx():
        return await render("_post_published.html", post=post, form=PostForm(),
                            message=_("Your post is now live!"))
    await flash(_("Your post is now live!"), "success")
    return see_other(url_for("main.index"))


@bp.route("/explore")
async def explore():
    return await _post_list("main/explore.html", Post.explore(), title=_("Explore"))


async def _user_or_404(nickname: str) -> User:
    user = await User.by_nickname(get_session(), nickname)
    if user is None:
        abort(404)
    return user


@bp.route("/user/<nickname>")
async def user(nickname: str):
    user = await _user_or_404(nickname)
    viewer = await load_current_user()
    db = get_session()
    follower_count, following_count = await user.follow_counts(db)
    viewer_follows = viewer is not None and viewer.id != user.id and await viewer.is_following(db, user)
    return await _post_list("main/user.html", user.own_posts(), user=user,
                            state=FollowState(follower_count, viewer_follows),
                            following_count=following_count, title=user.nickname)


async def _user_list(nickname: str, which: str):
    user = await _user_or_404(nickname)
    query = user.followers_list() if which == "followers" else user.following_list()
    db = get_session()
    page = await keyset_page(db, query, followers.c.timestamp, User.id, _cursor(),
                             current_app.config["POSTS_PER_PAGE"],
                             key=lambda row: (row.timestamp, row.User.id))
    states = await User.follow_states(db, await load_current_user(), [row.User for row in page.items])
    context = {"page": page, "item_template": "_user_row.html", "states": states,
               "older_label": _("More"), "newer_label": _("Back")}
    title = (_("Followers of %(nickname)s", nickname=user.nickname) if which == "followers"
             else _("Followed by %(nickname)s", nickname=user.nickname))
    return await _list_response("main/user_list.html", user=user, which=which, title=title, **context)


@bp.route("/user/<nickname>/followers")
async def user_followers(nickname: str):
    return await _user_list(nickname, "followers")


@bp.route("/user/<nickname>/following")
async def user_following(nickname: str):
    return await _user_list(nickname, "following")


@bp.route("/follow/<nickname>", methods=["GET", "POST"])
@login_required
async def follow(nickname: str):
    return await _follow_action(nickname, follow=True)


@bp.route("/unfollow/<nickname>", methods=["GET", "POST"])
@login_required
async def unfollow(nickname: str):
    return await _follow_action(nickname, follow=False)


async def _refuse(status: int, message: str, location: str):
    """Say no: for htmx a short error fragment (shown next to what was clicked); without JS a
    flash and a redirect."""
    if is_htmx():
        return await error_response(status, message, message)
    await flash(message, "warning")
    return see_other(location)


async def _follow_action(nickname: str, follow: bool):
    db = get_session()
    user = await User.by_nickname(db, nickname)
    if user is None:
        return await _refuse(404, _("User %(nickname)s not found.", nickname=nickname), url_for("main.index"))
    if request.method == "GET":  # an old link: confirm, since no GET changes anything
        return await render("main/confirm_follow.html", user=user, follow=follow,
                            title=_("Follow %(nickname)s", nickname=user.nickname) if follow
                            else _("Unfollow %(nickname)s", nickname=user.nickname))
    if user.id == g.user.id:
        return await _refuse(400, _("You cannot follow yourself!"), url_for("main.user", nickname=user.nickname))
    if follow:
        await g.user.follow(db, user)
        message = _("You are now following %(nickname)s!", nickname=user.nickname)
    else:
        await g.user.unfollow(db, user)
        message = _("You are not following %(nickname)s anymore.", nickname=user.nickname)
    if is_htmx():
        state = (await User.follow_states(db, g.user, [user]))[user.id]
        return await render("_follow_changed.html", user=user, state=state, message=message, focus=True)
    await flash(message, "success")
    return see_other(back_or("main.user", nickname=user.nickname))


@bp.route("/delete/<int(max=2147483647):post_id>", methods=["GET", "POST"])  # old links
@bp.route("/post/<int(max=2147483647):post_id>/delete", methods=["POST"])
@login_required
async def delete(post_id: int):
    db = get_session()
    post = await db.get(Post, post_id)
    if post is None:
        return await _refuse(404, _("Post not found."), url_for("main.index"))
    if not post.deletable_by(g.user):
        abort(403)
    if request.method == "GET":
        return await render("main/confirm_delete.html", post=post, title=_("Delete post"))
    await post.delete_by(db, g.user)
    if is_htmx():
        return await render("_announce.html", message=_("Your post has been deleted."))
    await flash(_("Your post has been deleted."), "success")
    return see_other(back_or("main.index"))


@bp.route("/edit_profile", methods=["GET", "POST"])
@login_required
async def edit_profile():
    user = g.user
    form = await EditProfileForm.from_request(obj=user)
    if request.method == "POST" and form.validate():
        db = get_session()
        try:
            await user.update_profile(db, form.nickname.data, form.about_me.data)
        except AccountConflict:
            await nickname_taken_error(db, form.nickname)
        else:
            await flash(_("Your changes have been saved."), "success")
            return see_other(url_for("main.edit_profile"))
    status = 422 if form.errors else 200
    return await render("main/edit_profile.html", form=form, status=status, title=_("Edit Profile"))


# Old URLs people bookmarked.

@bp.route("/login")
async def legacy_login():
    return redirect(url_for("auth.login", next=request.args.get("next")), 301)


@bp.route("/logout")
async def legacy_logout():
    return redirect(url_for("auth.logout"), 301)


@bp.route("/edit")
async def legacy_edit():
    return redirect(url_for("main.edit_profile"), 301)


@bp.route("/index/<int:page>")
async def legacy_index_page(page: int):
    return redirect(url_for("main.index"), 301)


@bp.route("/user/<nickname>/<int:page>")
async def legacy_user_page(nickname: str, page: int):
    return redirect(url_for("main.user", nickname=nickname), 301)
