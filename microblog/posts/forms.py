import secrets

from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from ..forms import QuartForm, Visible, strip
from ..i18n import lazy_gettext as _l
from .models import POST_MAX


class PostForm(QuartForm):
    post = TextAreaField(_l("Say something"), filters=[strip], validators=[
        Visible(message=_l("Please write something first.")),
        Length(max=POST_MAX, message=_l("Posts are at most %(max)d characters.", max=POST_MAX))])
    # A new token with every rendered form; sent twice, it makes one post.
    submission = HiddenField(default=lambda: secrets.token_urlsafe(16),
                             filters=[lambda value: value[:32] if isinstance(value, str) else value])
