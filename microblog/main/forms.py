from quart_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import NICKNAME_TOO_LONG, QuartForm, nickname_rules, strip
from ..models import ABOUT_ME_MAX, NICKNAME_MAX, POST_MAX


class PostForm(QuartForm):
    post = TextAreaField(_l("Say something"), filters=[strip], validators=[
        DataRequired(message=_l("Please write something first.")),
        Length(max=POST_MAX, message=_l("Posts are at most %(max)d characters.", max=POST_MAX))])


class EditProfileForm(QuartForm):
    nickname = StringField(_l("Nickname"), filters=[strip], validators=[
        DataRequired(), Length(max=NICKNAME_MAX, message=NICKNAME_TOO_LONG), nickname_rules])
    about_me = TextAreaField(_l("About me"), filters=[strip], validators=[
        Length(max=ABOUT_ME_MAX, message=_l("About me is at most %(max)d characters.", max=ABOUT_ME_MAX))])
