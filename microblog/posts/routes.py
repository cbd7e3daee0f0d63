"""The home timeline, publishing, explore, and deleting a post."""
from quart import Blueprint, Response, abort, current_app, flash, g, redirect, request, url_for
from sqlalchemy import Select

from ..accounts import load_current_user, login_required
from ..db import get_session
from ..i18n import gettext as _
from ..paging import current_cursor, keyset_page, list_response
from ..security import safe_next
from ..web import Refused, answer, back_or, is_htmx, render, same_site_path, vary_on_htmx
from .cards import post_cards
from .forms import PostForm
from .models import Post

bp = Blueprint("posts", __name__)


async def post_list(template: str, query: Select, status: int = 200, load=None, **context):
    """A page of posts (newest first, keyset paged), or for infinite scroll the next page alone.
    `load`: see keyset_page (the timeline selects ids, then the posts)."""
    page = await keyset_page(get_session(), query, Post.timestamp, Post.id, current_cursor(),
                             current_app.config["POSTS_PER_PAGE"], load=load)
    context.setdefault("list_endpoint", request.endpoint)
    return await list_response(template, status, page=page, item_cards=post_cards, **context)


async def get_post(post_id: int, check_author: bool = True) -> Post:
    """The post, or a refusal: "Post not found." when it is gone (or not the reader's to see: a
    followers-only post from elsewhere), 403 when it is not yours."""
    db = get_session()
    post = await db.get(Post, post_id)
    if post is None or not await post.readable_by(db, await load_current_user()):
        raise Refused(404, _("Post not found."), url_for("posts.index"))
    if check_author and not post.deletable_by(g.user):
        abort(403)
    return post


@bp.route("/", methods=["GET", "POST"])
@bp.route("/index", methods=["GET", "POST"])
@login_required
async def index():
    """The home timeline: one's own posts and those of followed users, with the post form."""
    if request.method == "POST":
        return await _publish()
    return await post_list("posts/index.html", await Post.timeline_for(get_session(), g.user),
                           load=Post.with_authors, title=_("Home"))


@bp.route("/post", methods=["POST"])
@login_required
async def publish():
    """Publish a post (the htmx form's address; the no-JS form posts to the home page)."""
    return await _publish()


async def _publish():
    form = await PostForm.from_request()
    if not form.validate():
        if is_htmx():
            return await render("posts/_post_form.html", form=form, status=422, headers={
                "HX-Retarget": "#post-form", "HX-Reswap": "outerHTML"})
        # Without JavaScript: the page again, with the text kept and the error shown.
        return await post_list("posts/index.html", await Post.timeline_for(get_session(), g.user),
                               load=Post.with_authors, form=form, status=422, title=_("Home"),
                               list_endpoint="posts.index")
    post = await Post.publish(get_session(), g.user, form.post.data, form.submission.data)
    return await answer(_("Your post is now live!"), url_for("posts.index"),
                        fragment="posts/_post_published.html", post=post)


@bp.route("/explore")
async def explore():
    """Everyone's posts, newest first."""
    return await post_list("posts/explore.html", Post.explore(await load_current_user()), title=_("Explore"))


@bp.route("/post/<int(max=2147483647):post_id>")
async def show(post_id: int):
    """One post on a page of its own: its author, its full time and language (and, later, its
    replies). Its address is the post's for good: ids are never reused. A followers-only post
    from elsewhere is a 404 to anyone who does not follow its author."""
    db = get_session()
    post = await db.scalar(Post.by_id(post_id))
    if post is None or post.author.suspended or not await post.readable_by(db, await load_current_user()):
        abort(404)  # a followers-only post is no one else's to know of; a blocked server's, no one's
    return await render("posts/post.html", post=post, title=_("%(nickname)s: %(text)s", nickname=post.author.handle,
                                                               text=_shortened(post.body, 40)))


def _shortened(text: str, length: int) -> str:
    """`text`, or as many of its first words as fit in `length` characters, and "…"."""
    if len(text) <= length:
        return text
    cut = text[:length - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,.;:") + "…"


@bp.route("/post/<int(max=2147483647):post_id>/delete", methods=["GET", "POST"])
@login_required
async def delete(post_id: int):
    """Delete one's own post; a GET (the button without JavaScript, an old link) asks first,
    since no GET changes anything; then back where the reader was (not to the post's own page)."""
    post = await get_post(post_id)
    if request.method == "GET":
        came_from = safe_next(request.args.get("next")) or same_site_path(request.referrer)
        return await render("posts/confirm_delete.html", post=post, title=_("Delete post"), came_from=came_from)
    await post.delete_by(get_session(), g.user)
    done, home = _("Your post has been deleted."), url_for("posts.index")
    if is_htmx() and _about(same_site_path(request.headers.get("HX-Current-URL")) or "", post_id):
        await flash(done, "success")  # from the post's own page, gone with it: home
        return vary_on_htmx(Response("", headers={"HX-Redirect": home}))
    back = back_or("posts.index")
    return await answer(done, home if _about(back, post_id) else back)  # not to a page of the gone post


def _about(path: str, post_id: int) -> bool:
    """Whether `path` is a page of the post `post_id` (its own, or one of its actions')."""
    path, own = path.partition("?")[0], url_for("posts.show", post_id=post_id)
    return path == own or path.startswith(own + "/") or path == url_for("posts.legacy_delete", post_id=post_id)


@bp.route("/delete/<int(max=2147483647):post_id>", methods=["GET", "POST"])
async def legacy_delete(post_id: int):
    """The tutorial's old address: the same action."""
    return await delete(post_id)


@bp.route("/index/<int:page>")
async def legacy_index_page(page: int):
    return redirect(url_for("posts.index"), 301)
