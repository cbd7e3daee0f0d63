import secrets

from markupsafe import Markup
from quart import current_app
from wtforms import HiddenField, TextAreaField, ValidationError

from ..forms import QuartForm, Visible, strip
from ..i18n import gettext as _, lazy_gettext as _l
from ..render_cache import form_partial
from ..security import csrf_token
from .text import length


def new_submission() -> str:
    return secrets.token_urlsafe(16)


def short_enough(form, field) -> None:
    """At most POST_MAX_CHARS, counted as people count (text.length): too long is refused, with
    the text kept in the box, never cut."""
    most = current_app.config["POST_MAX_CHARS"]
    if length(field.data) > most:
        raise ValidationError(_("Posts are at most %(max)d characters.", max=most))


class PostForm(QuartForm):
    post = TextAreaField(_l("Say something"), filters=[strip], validators=[
        Visible(message=_l("Please write something first.")), short_enough])
    # A new token with every rendered form; sent twice, it makes one post.
    submission = HiddenField(default=new_submission,
                             filters=[lambda value: value[:32] if isinstance(value, str) else value])


async def post_form(form: PostForm | None = None) -> Markup:
    """The post form (`posts/_post_form.html`): `form` as it was sent, or a fresh one kept
    rendered with its CSRF token and one-time submission token filled in."""
    slots = {"token": csrf_token(), "submission": new_submission()}
    return await form_partial("posts/_post_form.html", form, slots,
                              lambda: PostForm(submission=slots["submission"]), cut=True)
