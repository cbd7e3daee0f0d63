"""Fields written by forms.py's faster widgets are exactly what WTForms' own widgets write, for
every field of every form of the site, empty or filled in, with the attributes templates pass."""
import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms.meta import DefaultMeta

from microblog.forms import FASTER, QuartForm, html_params

TRICKY = "<b>\"quotes\" & 'apostrophes'</b>\n\r\x00 ünïcödé"
ATTRIBUTES = [
    {},
    {"class_": "form-control is-invalid", "aria_describedby": "f-hint f-errors", "aria_invalid": "true"},
    {"autofocus": True, "required": False, "maxlength": 140, "rows": 2, "data_role": Markup('a "quoted" <i>')},
    {"value": TRICKY, "placeholder": TRICKY, "id": "other-id"},
]


def forms() -> list[type[QuartForm]]:
    found, waiting = [], [QuartForm]
    while waiting:
        for form in waiting.pop().__subclasses__():
            found.append(form)
            waiting.append(form)
    return found


@pytest.mark.parametrize("form_class", forms(), ids=lambda form: form.__name__)
async def test_fields_are_written_as_wtforms_writes_them(app, form_class):
    async with app.test_request_context("/"):
        for formdata in (None, MultiDict()):
            form = form_class(formdata=formdata)
            filled = form_class(formdata=MultiDict({field.name: TRICKY for field in form}))
            filled.validate()  # with errors, as a refused form is shown again
            for field in (*form, *filled):
                stock = field.widget
                for attributes in ATTRIBUTES:
                    ours = str(field(**attributes))
                    if type(stock) in FASTER:
                        assert field.widget is FASTER[type(stock)]
                    field.widget = stock
                    assert ours == str(DefaultMeta.render_field(field.meta, field, attributes)), field.name


def test_forms_are_found_and_use_the_faster_widgets():
    names = {form.__name__ for form in forms()}
    assert {"LoginForm", "PostForm", "RegistrationForm", "EditProfileForm"} <= names
    assert html_params(b=True, a='x"y', c=False, class_="z") == 'a="x&#34;y" b class="z"'
