"""The language menu: a visitor's choice is kept in a cookie, a user's on their account too."""
from quart import Blueprint, g, request

from ..web import Refused, back_or, keep_choice, see_other
from .locales import LOCALE_COOKIE, gettext as _, offered

bp = Blueprint("i18n", __name__)


@bp.route("/language", methods=["POST"])
async def choose_language():
    """Read the site in another language from now on, then back to the page the menu was on."""
    back = back_or("posts.index")
    choice = offered((await request.form).get("locale"))
    if choice is None:
        raise Refused(400, _("That language is not available."), back)
    if g.get("user") is not None:
        g.user.locale = choice  # saved by the request's commit
    return keep_choice(see_other(back), LOCALE_COOKIE, choice)
