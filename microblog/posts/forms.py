from quart_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import QuartForm, strip
from .models import POST_MAX


class PostForm(QuartForm):
    post = TextAreaField(_l("Say something"), filters=[strip], validators=[
        DataRequired(message=_l("Please write something first.")),
        Length(max=POST_MAX, message=_l("Posts are at most %(max)d characters.", max=POST_MAX))])
