"""The reader's language: choosing it, and translating templates with one catalogue lookup per
request (quart-babel looks the catalogue up again for every string, ~100 times a page)."""
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Iterator

from babel import Locale, UnknownLocaleError
from jinja2 import pass_eval_context
from markupsafe import Markup
from babel.support import NullTranslations
from quart import current_app, g, has_app_context, request
from quart_babel import LazyString, force_locale, get_locale
from quart_babel.domain import get_translations as babel_translations

TRANSLATIONS = Path(__file__).resolve().parent.parent.parent / "translations"
LOCALE_COOKIE = "locale"


def primary(code: str | None) -> str:
    """The primary language subtag: "es-MX" and "es_419" are "es", langdetect's "zh-cn" is "zh"."""
    return (code or "").replace("_", "-").split("-")[0].strip().lower()


def offered(code: str | None) -> str | None:
    """`code` ("es", "es-MX", "es_419") as one of the site's languages, by its primary subtag."""
    language = primary(code)
    return language if language and language in current_app.config["LANGUAGES"] else None


def from_accept_language() -> str | None:
    """The first language the browser accepts (by preference) that the site offers: es-MX and
    es-419 mean Spanish, en-GB English."""
    for code, quality in request.accept_languages:  # werkzeug sorts them by quality
        if quality > 0 and (found := offered(code)):  # q=0: "not this one"
            return found
    return None


def select_locale() -> str | None:
    """The account's choice, else the visitor's (a cookie), else the browser's, else English."""
    g.locale_from_request = True  # the answer varies with Accept-Language (see init_app)
    user = g.get("user")
    return (offered(user.locale if user is not None else None)
            or offered(request.cookies.get(LOCALE_COOKIE))
            or from_accept_language())


def current_locale() -> Locale:
    return get_locale() or Locale.parse(current_app.extensions["babel"].default_locale)


def current_locale_code() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def language_name(code: str) -> str:
    """"es" as the reader calls it ("Spanish", "español"); the code itself if Babel has no name."""
    try:
        return Locale.parse(code).get_display_name(current_locale_code()) or code
    except (ValueError, UnknownLocaleError):
        return code


def language_names() -> tuple[tuple[str, str], ...]:
    """Each language the site offers, named in itself ("English", "Español")."""
    return _names_of(tuple(current_app.config["LANGUAGES"]))


@cache
def _names_of(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    names = ((code, Locale.parse(code).display_name or code) for code in codes)
    return tuple((code, name[:1].upper() + name[1:]) for code, name in names)


def translations():
    """This request's catalogue (or a job's: each runs in an app context of its own)."""
    if not has_app_context():
        return NULL_TRANSLATIONS
    if "translations" not in g:
        g.translations = babel_translations()
    return g.translations


NULL_TRANSLATIONS = NullTranslations()


def gettext(string: str, /, **variables) -> str:
    """quart-babel's `gettext` (the string in the reader's language, formatted with `variables`),
    with the catalogue looked up once per request instead of once per string."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, /, **variables) -> str:
    """quart-babel's `ngettext`, as `gettext` above: `num` chooses the form and is `%(num)d`."""
    variables["num"] = num
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, /, **variables) -> LazyString:
    """`gettext` when the string is used (form labels and messages, written once at import)."""
    return LazyString(gettext, string, **variables)


def user_locale(user, default: str | None = None) -> str:
    """The language to write to `user` in (mail): theirs when they chose one the site offers,
    else `default` (e.g. the language of the request they made), else the site's default."""
    return offered(user.locale) or default or current_app.extensions["babel"].default_locale


@contextmanager
def speaking(locale: str) -> Iterator[None]:
    """Translate everything inside (gettext, templates, dates) into `locale`, whatever the
    request or job would choose."""
    kept = g.pop("translations", None)
    with force_locale(locale):
        try:
            yield
        finally:
            g.pop("translations", None)
            if kept is not None:
                g.translations = kept


@pass_eval_context
def template_gettext(eval_ctx, string: str, /, **variables) -> str:
    """`_()` and `gettext()` in templates: Jinja's newstyle gettext (the translation is a format
    string, its arguments autoescaped), without its two extra calls and a format per string when
    there is nothing to format (a page has about a hundred strings)."""
    text = translations().ugettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables or "%" in text else text


@pass_eval_context
def template_ngettext(eval_ctx, singular: str, plural: str, num: int, /, **variables) -> str:
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables
