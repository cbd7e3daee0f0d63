"""Form base: WTForms fed from Quart's async request data."""
import re

from quart import request
from quart_babel import get_locale
from wtforms import Form
from wtforms.i18n import get_translations


class QuartForm(Form):
    """CSRF is checked for every unsafe request in security.py, so forms need not."""

    class Meta:
        def get_translations(self, form):
            # WTForms' own messages ("This field is required.") in the reader's language.
            locale = get_locale()
            return get_translations([str(locale)] if locale else None)

    @classmethod
    async def from_request(cls, **kwargs):
        formdata = await request.form if request.method in {"POST", "PUT", "PATCH"} else None
        return cls(formdata=formdata, **kwargs)


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def strip(value):
    """Trimmed, with browsers' CRLF line ends as one character (as `maxlength` counts them) and
    no control characters (a NUL cannot even be stored in PostgreSQL)."""
    if not isinstance(value, str):
        return value
    return CONTROL_CHARACTERS.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def lower(value):
    """Email addresses are stored lower-case: limits apply to what is stored."""
    return value.lower() if isinstance(value, str) else value
