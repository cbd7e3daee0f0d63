"""Account forms, and the nickname rules the profile form shares."""
from markupsafe import Markup
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..forms import QuartForm, lower, strip
from ..i18n import gettext as _, lazy_gettext as _l
from ..security import csrf_token
from ..render_cache import form_partial
from .models import EMAIL_MAX, User
from .nicknames import NEW_NICKNAME_PATTERN, NICKNAME_MAX, NICKNAME_PATTERN

PASSWORD_MIN = 8

NICKNAME_TOO_LONG = _l("Nicknames are at most %(max)d characters.")


def nickname_rules(form, field) -> None:
    """Letters, digits, dots and underscores; a new nickname (not the one the account has) also
    neither starts nor ends with a dot, so that Mastodon can mention it."""
    if field.data and not NICKNAME_PATTERN.fullmatch(field.data):
        raise ValidationError(_l("Please use only letters, digits, dots and underscores."))
    if field.data and field.data != field.object_data and not NEW_NICKNAME_PATTERN.fullmatch(field.data):
        raise ValidationError(_l("A nickname cannot start or end with a dot."))


async def nickname_taken_error(db, field) -> None:
    """Mark a taken nickname as an error, suggesting one that is free (john → john2)."""
    suggestion = await User.suggest_nickname(db, field.data)
    field.errors = [*field.errors, _("This nickname is taken. How about %(suggestion)s?",
                                     suggestion=suggestion)]


class LoginForm(QuartForm):
    nickname = StringField(_l("Nickname"), filters=[strip], validators=[
        DataRequired(), Length(max=NICKNAME_MAX)])  # also bounds the throttle key (String(200))
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember_me = BooleanField(_l("Remember me"))


async def login_form(form: LoginForm | None, action: str) -> Markup:
    """The log-in form (`accounts/_login_form.html`) sent to `action`: `form` as it was sent, or a
    fresh one kept rendered with its CSRF token and address filled in (the log-in page is what
    every visitor sees first)."""
    slots = {"token": csrf_token(), "action": action}
    return await form_partial("accounts/_login_form.html", form, slots, LoginForm)


class RegistrationForm(QuartForm):
    nickname = StringField(_l("Nickname"), filters=[strip], validators=[
        DataRequired(), Length(max=NICKNAME_MAX, message=NICKNAME_TOO_LONG), nickname_rules])
    email = EmailField(_l("Email"), filters=[strip, lower], validators=[
        DataRequired(), Length(max=EMAIL_MAX), Email(check_deliverability=False)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(), Length(min=PASSWORD_MIN, max=1024)])
    password2 = PasswordField(_l("Repeat password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords do not match."))])


class ResetPasswordRequestForm(QuartForm):
    email = EmailField(_l("Email"), filters=[strip, lower], validators=[
        DataRequired(), Length(max=EMAIL_MAX), Email(check_deliverability=False)])


class ResetPasswordForm(QuartForm):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=PASSWORD_MIN, max=1024)])
    password2 = PasswordField(_l("Repeat password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords do not match."))])
