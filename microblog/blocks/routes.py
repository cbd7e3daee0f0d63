"""Blocking and unblocking someone, hiding a server and showing it again, and the page listing them."""
from quart import Blueprint, g, request, url_for

from ..accounts import User, login_required
from ..db import get_session
from ..follows import follow_states
from ..i18n import gettext as _
from ..web import Refused, answer, back_or, render
from .models import (SelfBlock, block, block_state, blocked_accounts, hidden_servers, hide_domain, show_domain,
                     unblock)

bp = Blueprint("blocks", __name__)

# What each action asks first (a GET: an old link, or the button without JavaScript), and says once done.
ASK = {
    "block": lambda name: (_("Block %(name)s", name=name), _(
        "Do you want to block %(name)s? You will not see their posts, and neither of you will be able to follow "
        "the other.", name=name), _("Block")),
    "unblock": lambda name: (_("Unblock %(name)s", name=name), _("Do you want to unblock %(name)s?", name=name),
                             _("Unblock")),
    "hide": lambda name: (_("Hide %(name)s", name=name), _(
        "Do you want to hide everything from %(name)s? You will not see posts from anyone there, your follows of "
        "people there end, and people there who follow you are removed.", name=name), _("Hide everything")),
    "show": lambda name: (_("Show %(name)s", name=name), _("Do you want to see %(name)s again?", name=name),
                          _("Show again")),
}
DONE = {
    "block": lambda name: _("You have blocked %(name)s.", name=name),
    "unblock": lambda name: _("You have unblocked %(name)s.", name=name),
    "hide": lambda name: _("Everything from %(name)s is hidden from you now.", name=name),
    "show": lambda name: _("You see %(name)s again.", name=name),
}


async def _person(nickname: str) -> User:
    user = await User.by_handle(get_session(), nickname)
    if user is None:
        message = (_("User %(nickname)s not found.", nickname=nickname) if User.nickname_is_valid(nickname)
                   else _("User not found."))
        raise Refused(404, message, url_for("posts.index"))
    return user


@bp.route("/user/<nickname>/block", methods=["GET", "POST"])
@login_required
async def block_user(nickname: str):
    """Block `nickname`: their posts hidden from you, follows between you ended; twice is a quiet success."""
    return await _act("block", await _person(nickname))


@bp.route("/user/<nickname>/unblock", methods=["GET", "POST"])
@login_required
async def unblock_user(nickname: str):
    """Stop blocking `nickname`; unblocking someone not blocked is a quiet success."""
    return await _act("unblock", await _person(nickname))


@bp.route("/user/<nickname>/hide-server", methods=["GET", "POST"])
@login_required
async def hide_server(nickname: str):
    """Hide everything from `nickname`'s server: posts and people there, follows with them ended."""
    user = await _person(nickname)
    if user.is_local:
        raise Refused(400, _("You cannot block yourself or hide your own server."),
                      url_for("profiles.user", nickname=user.handle))
    return await _act("hide", user, user.domain)


@bp.route("/user/<nickname>/show-server", methods=["GET", "POST"])
@login_required
async def show_server(nickname: str):
    """See `nickname`'s server again (from their profile)."""
    user = await _person(nickname)
    return await _act("show", user, user.domain)


@bp.route("/settings/blocks/servers/<domain>/show", methods=["GET", "POST"])
@login_required
async def show_domain_again(domain: str):
    """See the server `domain` again (from the settings page); a server not hidden is a quiet success."""
    return await _act("show", None, domain.lower())


async def _act(what: str, user: User | None, domain: str | None = None):
    db = get_session()
    name = domain or user.handle
    if request.method == "GET":
        title, question, button = ASK[what](name)
        return await render("blocks/confirm.html", title=title, question=question, button=button,
                            action=request.path, back=back_or("blocks.settings") if user is None
                            else url_for("profiles.user", nickname=user.handle))
    try:
        if what == "block":
            await block(db, g.user, user)
        elif what == "unblock":
            await unblock(db, g.user, user)
        elif what == "hide":
            await hide_domain(db, g.user, domain)
        else:
            await show_domain(db, g.user, domain)
    except SelfBlock:
        raise Refused(400, _("You cannot block yourself or hide your own server."),
                      url_for("profiles.user", nickname=user.handle)) from None
    if user is None:
        return await answer(DONE[what](name), back_or("blocks.settings"))
    boundary = await block_state(db, g.user, user)
    state = (await follow_states(db, g.user, [user]))[user.id]
    return await answer(DONE[what](name), back_or("profiles.user", nickname=user.handle),
                        fragment="blocks/_block_changed.html", user=user, boundary=boundary, state=state, focus=True)


@bp.route("/settings/blocks")
@login_required
async def settings():
    """The accounts you block and the servers you hide, each with a way back."""
    db = get_session()
    return await render("blocks/settings.html", accounts=await blocked_accounts(db, g.user),
                        servers=await hidden_servers(db, g.user), title=_("Blocked accounts and hidden servers"))
