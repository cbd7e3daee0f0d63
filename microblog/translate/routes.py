"""Translate a post (POST: it costs the site money, so CSRF applies), and show it untranslated
again (GET: what "Show original" fetches with htmx)."""
from quart import Blueprint, g

from ..accounts import login_required
from ..db import get_session
from ..i18n import gettext as _
from ..posts import get_post
from ..web import back_or, error_response, is_htmx, render
from .service import NotTranslated, translation_for

bp = Blueprint("translate", __name__)

POST_ID = "<int(max=2147483647):post_id>"


@bp.route(f"/post/{POST_ID}/translate", methods=["POST"])
@login_required
async def translate(post_id: int):
    """The post in the reader's language: under the post (htmx), or a page with both (no JS)."""
    post = await _post(post_id)
    try:
        translation = await translation_for(get_session(), post, g.user)
    except NotTranslated as refusal:
        return await _refused(post, refusal)
    if is_htmx():
        return await render("translate/_translation.html", post=post, translation=translation, swapped=True)
    return await render("translate/page.html", post=post, translation=translation,
                        back=back_or("posts.explore"), title=_("Translation"))


@bp.route(f"/post/{POST_ID}/translate", methods=["GET"])
@login_required
async def original(post_id: int):
    """The post as written, with its "Translate" button: the fragment for htmx ("Show
    original"); without JS the page of that post."""
    post = await _post(post_id)
    if is_htmx():
        return await render("translate/_offer.html", post=post, swapped=True)
    return await render("translate/page.html", post=post, back=back_or("posts.explore"), title=_("Post"))


async def _post(post_id: int):
    post = await get_post(post_id, check_author=False)
    await get_session().refresh(post, ["author"])
    return post


async def _refused(post, refusal: NotTranslated):
    """A short message: next to the button (htmx), or on the post's page (no JS)."""
    if is_htmx():
        response = await error_response(refusal.status, refusal.message, refusal.message)
    else:
        response = await render("translate/page.html", status=refusal.status, post=post,
                                problem=refusal.message, back=back_or("posts.explore"))
    if refusal.retry_after:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response

