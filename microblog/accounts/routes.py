"""Register, log in and out, reset a forgotten password."""
import math

from quart import Blueprint, flash, g, redirect, request, session, url_for
from quart_auth import AuthUser, login_user, logout_user

from ..db import get_session
from ..i18n import gettext as _, ngettext
from ..security import CSRF_FIELD, safe_next
from ..web import render, see_other
from .access import load_current_user
from .devices import login_keys, remember_device
from .forms import (LoginForm, RegistrationForm, ResetPasswordForm, ResetPasswordRequestForm, login_form,
                    nickname_taken_error)
from .models import AccountConflict, User
from .passwords import verify_password
from .reset import queue_reset_mail, reset_mail_allowed, user_from_reset_token
from .sessions import LoginSession
from .throttle import NICKNAME, Throttle, claim_all, per_client

bp = Blueprint("accounts", __name__, url_prefix="/auth")


def _already_logged_in():
    return redirect(url_for("posts.index"))


@bp.route("/register", methods=["GET", "POST"])
async def register():
    if await load_current_user() is not None:
        return _already_logged_in()
    form = await RegistrationForm.from_request()
    if request.method == "POST" and form.validate():
        wait = await take_for_client("register")
        if wait:
            return await render("accounts/register.html", form=form, error=too_many(wait), status=429,
                                headers={"Retry-After": str(wait)}, title=_("Register"))
        db = get_session()
        try:
            await User.register(db, form.nickname.data, form.email.data, form.password.data)
        except AccountConflict as taken:
            if taken.nickname:
                await nickname_taken_error(db, form.nickname)
            if taken.email:
                form.email.errors = [*form.email.errors, _("This email address is already registered.")]
        else:
            await flash(_("Congratulations, you are now a registered user! Please log in."), "success")
            return see_other(url_for("accounts.login"))
    status = 422 if request.method == "POST" else 200
    return await render("accounts/register.html", form=form, status=status, title=_("Register"))


@bp.route("/login", methods=["GET", "POST"])
async def login():
    if await load_current_user() is not None:
        return _already_logged_in()
    form = error = None  # a fresh form, kept rendered
    if request.method == "POST" and (form := await LoginForm.from_request()).validate():
        db = get_session()
        user = await User.by_nickname(db, form.nickname.data)
        claims = await claim_all(login_keys(user, form.nickname.data))
        if claims.wait:
            error = _("Too many failed attempts. Try again in %(seconds)d seconds.", seconds=claims.wait)
        elif await verify(user, form.password.data):
            await claims.succeeded(db)
            return await log_in(user, form.remember_me.data)
        else:
            await claims.failed()
            error = _("Invalid nickname or password.")
    status = 422 if request.method == "POST" else 200
    next_page = safe_next(request.args.get("next"))
    action = url_for("accounts.login", next=next_page) if next_page else url_for("accounts.login")
    return await render("accounts/login.html", form=await login_form(form, action), error=error,
                        status=status, title=_("Sign In"))


async def log_in(user: User, remember: bool):
    """Open a session on the server, give the browser its cookie (and mark the browser as one
    `user` has logged in with), and go where the user was going."""
    token = await LoginSession.start(get_session(), user, remember, request.headers.get("User-Agent", ""))
    session.pop(CSRF_FIELD, None)  # a fresh CSRF token for the logged-in session
    login_user(AuthUser(token), remember=remember)
    first_time = user.last_seen is None  # never seen logged in: a brand-new account
    await flash(_("Welcome, %(nickname)s!", nickname=user.nickname) if first_time
                else _("Welcome back, %(nickname)s!", nickname=user.nickname), "success")
    response = see_other(safe_next(request.args.get("next")) or url_for("posts.index"))
    remember_device(response, user)
    return response


async def take_for_client(kind: str) -> int:
    """One more `kind` ("register", "reset") from this client: 0, or seconds to wait."""
    policy = per_client(kind)
    return await Throttle.take(Throttle.client_key(policy), policy)


def too_many(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("Too many requests from your network. Try again in %(num)d minute.",
                    "Too many requests from your network. Try again in %(num)d minutes.", minutes)


async def verify(user: User | None, password: str) -> bool:
    # An unknown nickname costs the same time as a wrong password.
    return await verify_password(user.password_hash if user else None, password)


@bp.route("/logout", methods=["GET", "POST"])
async def logout():
    if request.method == "GET":
        return await render("accounts/logout.html", title=_("Log out"))
    user = await load_current_user()
    if user is not None:
        await LoginSession.end(get_session(), user, g.login_session.id)  # a copied cookie ends too
    logout_user()
    await flash(_("You have been logged out."), "info")
    return see_other(url_for("accounts.login"))


@bp.route("/reset_password_request", methods=["GET", "POST"])
async def reset_password_request():
    if await load_current_user() is not None:
        return _already_logged_in()
    form = await ResetPasswordRequestForm.from_request()
    if request.method == "POST" and form.validate():
        wait = await take_for_client("reset")
        if wait:
            return await render("accounts/reset_password_request.html", form=form, error=too_many(wait),
                                status=429, headers={"Retry-After": str(wait)}, title=_("Reset Password"))
        db = get_session()
        if await reset_mail_allowed(form.email.data):
            user = await User.by_email(db, form.email.data)
            if user is not None:
                queue_reset_mail(db, user)
        # The same answer whether or not the address is known.
        await flash(_("Check your email for the instructions to reset your password."), "info")
        return see_other(url_for("accounts.login"))
    status = 422 if request.method == "POST" else 200
    return await render("accounts/reset_password_request.html", form=form, status=status,
                        title=_("Reset Password"))


@bp.route("/reset_password/<token>", methods=["GET", "POST"])
async def reset_password(token: str):
    if await load_current_user() is not None:
        return _already_logged_in()
    user = await user_from_reset_token(token)
    if user is None:
        await flash(_("This password reset link is invalid or has expired."), "danger")
        return see_other(url_for("accounts.reset_password_request"))
    form = await ResetPasswordForm.from_request()
    if request.method == "POST" and form.validate():
        db = get_session()
        await LoginSession.end_others(db, user, keep=None)  # every session, before the new password
        await user.change_password(form.password.data)
        await Throttle.clear(db, Throttle.key_for(NICKNAME.kind, user.nickname))
        await flash(_("Your password has been reset. You can log in now."), "success")
        return see_other(url_for("accounts.login"))
    status = 422 if request.method == "POST" else 200
    return await render("accounts/reset_password.html", form=form, status=status,
                        title=_("Reset Your Password"))


# The tutorial's addresses, which people bookmarked (registered at the site's root by init_app).

async def legacy_login():
    return redirect(url_for("accounts.login", next=request.args.get("next")), 301)


async def legacy_logout():
    return redirect(url_for("accounts.logout"), 301)
