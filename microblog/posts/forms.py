import secrets

from markupsafe import Markup
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from ..forms import QuartForm, Visible, strip
from ..i18n import lazy_gettext as _l
from ..render_cache import form_partial
from ..security import csrf_token
from .models import POST_MAX


def new_submission() -> str:
    return secrets.token_urlsafe(16)


class PostForm(QuartForm):
    post = TextAreaField(_l("Say something"), filters=[strip], validators=[
        Visible(message=_l("Please write something first.")),
        Length(max=POST_MAX, message=_l("Posts are at most %(max)d characters.", max=POST_MAX))])
    # A new token with every rendered form; sent twice, it makes one post.
    submission = HiddenField(default=new_submission,
                             filters=[lambda value: value[:32] if isinstance(value, str) else value])


async def post_form(form: PostForm | None = None) -> Markup:
    """The post form (`posts/_post_form.html`): `form` as it was sent, or a fresh one kept
    rendered with its CSRF token and one-time submission token filled in."""
    slots = {"token": csrf_token(), "submission": new_submission()}
    return await form_partial("posts/_post_form.html", form, slots,
                              lambda: PostForm(submission=slots["submission"]), cut=True)
