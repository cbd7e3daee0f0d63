from quart_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..forms import NICKNAME_TOO_LONG, QuartForm, lower, nickname_rules, strip
from ..models import EMAIL_MAX, NICKNAME_MAX

PASSWORD_MIN = 8


class LoginForm(QuartForm):
    nickname = StringField(_l("Nickname"), filters=[strip], validators=[
        DataRequired(), Length(max=NICKNAME_MAX)])  # also bounds the throttle key (String(200))
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember_me = BooleanField(_l("Remember me"))


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
