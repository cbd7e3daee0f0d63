"""The Appearance page: light, dark or automatic, for visitors (a cookie) and accounts (saved on
it, and the cookie too, so the log-in page after logging out keeps the colours)."""
from quart import Blueprint, flash, g, render_template, request, url_for

from ..i18n import gettext as _
from ..web import Refused, keep_choice, see_other
from .choice import THEME_COOKIE, THEMES, chosen_theme, known

bp = Blueprint("themes", __name__)


@bp.route("/appearance")
async def appearance():
    return await render_template("themes/appearance.html", title=_("Appearance"), themes=THEMES,
                                 current=chosen_theme())


@bp.route("/appearance", methods=["POST"])
async def choose_theme():
    choice = known((await request.form).get("theme"))
    if choice is None:
        raise Refused(400, _("Choose light, dark or automatic."), url_for("themes.appearance"))
    if g.get("user") is not None:
        g.user.theme = choice  # saved by the request's commit
    await flash(_("Appearance saved."), "success")
    return keep_choice(see_other(url_for("themes.appearance")), THEME_COOKIE, choice)
