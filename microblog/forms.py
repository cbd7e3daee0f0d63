"""Form base: WTForms fed from Quart's async request data."""
from quart import request
from quart_babel import lazy_gettext as _l
from wtforms import Form
from wtforms.validators import ValidationError

from .models import NICKNAME_MAX, User


class QuartForm(Form):
    """CSRF is checked for every unsafe request in security.py, so forms need not."""

    @classmethod
    async def from_request(cls, **kwargs):
        formdata = await request.form if request.method in {"POST", "PUT", "PATCH"} else None
        return cls(formdata=formdata, **kwargs)


def strip(value):
    return value.strip() if isinstance(value, str) else value


def nickname_rules(form, field) -> None:
    if field.data and not User.nickname_is_valid(field.data):
        if len(field.data) > NICKNAME_MAX:
            raise ValidationError(_l("Nicknames are at most %(max)d characters.", max=NICKNAME_MAX))
        raise ValidationError(_l("Please use only letters, digits, dots and underscores."))
