"""The home timeline, publishing, explore, and deleting a post."""
from quart import Blueprint, abort, current_app, g, redirect, request, url_for
from sqlalchemy import Select

from ..accounts import login_required
from ..db import get_session
from ..i18n import gettext as _
from ..paging import current_cursor, keyset_page, list_response
from ..web import Refused, answer, back_or, is_htmx, render
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
    """The post, or a refusal: "Post not found." when it is gone, 403 when it is not yours."""
    post = await get_session().get(Post, post_id)
    if post is None:
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
    return await post_list("posts/explore.html", Post.explore(), title=_("Explore"))


@bp.route("/post/<int(max=2147483647):post_id>/delete", methods=["GET", "POST"])
@login_required
async def delete(post_id: int):
    """Delete one's own post; a GET (an old link) asks first, since no GET changes anything."""
    post = await get_post(post_id)
    if request.method == "GET":
        return await render("posts/confirm_delete.html", post=post, title=_("Delete post"))
    await post.delete_by(get_session(), g.user)
    return await answer(_("Your post has been deleted."), back_or("posts.index"))


@bp.route("/delete/<int(max=2147483647):post_id>", methods=["GET", "POST"])
async def legacy_delete(post_id: int):
    """The tutorial's old address: the same action."""
    return await delete(post_id)


@bp.route("/index/<int:page>")
async def legacy_index_page(page: int):
    return redirect(url_for("posts.index"), 301)
