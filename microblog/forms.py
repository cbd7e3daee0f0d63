"""Form base: WTForms fed from Quart's async request data."""
import re
import unicodedata
from functools import cache

from markupsafe import Markup, escape
from quart import request
from quart_babel import get_locale
from wtforms import Form, widgets
from wtforms.i18n import get_translations
from wtforms.validators import StopValidation
from wtforms.widgets.core import clean_key


class QuartForm(Form):
    """CSRF is checked for every unsafe request in security.py, so forms need not."""

    class Meta:
        def get_translations(self, form):
            # WTForms' own messages ("This field is required.") in the reader's language.
            return _wtforms_translations(str(get_locale() or ""))

        def render_field(self, field, render_kw):
            """As WTForms renders a field, but a stock widget of the kinds below is swapped for
            one that writes its attributes faster (the same HTML: tests/test_forms.py)."""
            faster = FASTER.get(type(field.widget))
            if faster is not None and vars(faster) == vars(field.widget):
                field.widget = faster
            return super().render_field(field, render_kw)

    @classmethod
    async def from_request(cls, **kwargs):
        formdata = await request.form if request.method in {"POST", "PUT", "PATCH"} else None
        return cls(formdata=formdata, **kwargs)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            _shorten_echo(field)
        return valid


def html_params(**attributes) -> Markup:
    """WTForms' `html_params` (attributes sorted by name, `True` bare, `False` left out, values
    escaped), without a `Markup.format` per attribute: that was a third of the login page."""
    params = []
    for name, value in sorted(attributes.items()):
        name = escape(clean_key(name))
        if value is True:
            params.append(name)
        elif value is not False:
            value = str(escape(value)).replace('"', "&quot;")  # a Markup value may hold quotes
            params.append(f'{name}="{value}"')
    return Markup(" ".join(params))


class _FasterParams:
    html_params = staticmethod(html_params)


class TextArea(widgets.TextArea):
    def __call__(self, field, **kwargs):  # WTForms' own, with html_params above
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in dir(flags):
            if name in self.validation_attrs and name not in kwargs:
                kwargs[name] = getattr(flags, name)
        return Markup(f"<textarea {html_params(name=field.name, **kwargs)}>\r\n{escape(field._value())}</textarea>")


FASTER = {stock: type(stock.__name__, (_FasterParams, stock), {})()
          for stock in (widgets.TextInput, widgets.PasswordInput, widgets.EmailInput, widgets.HiddenInput,
                        widgets.CheckboxInput)}
FASTER[widgets.TextArea] = TextArea()


@cache
def _wtforms_translations(locale: str):
    """WTForms' catalogue for `locale`, looked up once (WTForms opens the file for every form)."""
    return get_translations([locale] if locale else None)


ECHO_MAX = 1024


def _shorten_echo(field) -> None:
    """A refused form is shown again with what was typed, but not a megabyte of it: a field far
    over its limit is echoed only in part (a person's over-long text stays whole)."""
    limit = max([getattr(v, "max", -1) for v in field.validators] + [-1])
    cap = max(limit * 4, ECHO_MAX) if limit > 0 else ECHO_MAX * 16
    if isinstance(field.data, str) and len(field.data) > cap:
        field.data = field.data[:cap]
    if field.raw_data and isinstance(field.raw_data[0], str) and len(field.raw_data[0]) > cap:
        field.raw_data = [field.raw_data[0][:cap]]


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


# Characters that show nothing although Unicode calls them letters (fillers, a blank braille cell).
BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def shows_something(text: str) -> bool:
    """False for text made only of spaces, zero-width and other invisible characters."""
    return any(unicodedata.category(char)[0] not in "CZ" and char not in BLANK_LETTERS for char in text)


class Visible:
    """Like DataRequired, but text that shows nothing (zero-width spaces…) counts as empty."""

    def __init__(self, message):
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form, field):
        if not field.data or not shows_something(field.data):
            field.errors[:] = []
            raise StopValidation(self.message)
