from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..accounts import ABOUT_ME_MAX, DISPLAY_NAME_MAX, NICKNAME_MAX
from ..accounts.forms import NICKNAME_TOO_LONG, nickname_rules
from ..forms import QuartForm, strip
from ..i18n import lazy_gettext as _l, zone_choices


class EditProfileForm(QuartForm):
    nickname = StringField(_l("Nickname"), filters=[strip], validators=[
        DataRequired(), Length(max=NICKNAME_MAX, message=NICKNAME_TOO_LONG), nickname_rules])
    display_name = StringField(_l("Display name"), filters=[strip], validators=[Length(
        max=DISPLAY_NAME_MAX, message=_l("A display name is at most %(max)d characters.", max=DISPLAY_NAME_MAX))])
    about_me = TextAreaField(_l("About me"), filters=[strip], validators=[
        Length(max=ABOUT_ME_MAX, message=_l("About me is at most %(max)d characters.", max=ABOUT_ME_MAX))])
    notify_new_followers = BooleanField(_l("Email me when someone new follows me"))
    timezone = SelectField(_l("Time zone"), choices=zone_choices,
                           filters=[lambda zone: zone or ""])  # None: automatic
