"""The reader's language: choosing it, and translating templates with one catalogue lookup per
request (quart-babel looks the catalogue up again for every string, ~100 times a page)."""
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from quart import Quart, current_app, g, request
from quart_babel import Babel, force_locale, get_locale
from quart_babel.domain import get_translations as babel_translations

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def select_locale() -> str | None:
    user = g.get("user")
    if user is not None and user.locale:
        return user.locale
    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


def current_locale_code() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def translations():
    """This request's catalogue (or a job's: each runs in an app context of its own)."""
    if "translations" not in g:
        g.translations = babel_translations()
    return g.translations


def user_locale(user) -> str:
    """The language to write to `user` in without a request (mail sent by a job): theirs when
    they chose one the site offers, else the site's default."""
    if user.locale and user.locale.split("_")[0] in current_app.config["LANGUAGES"]:
        return user.locale
    return current_app.extensions["babel"].default_locale


@contextmanager
def speaking(locale: str) -> Iterator[None]:
    """Translate everything inside (gettext, templates) into `locale`, whatever the request or
    job would choose."""
    kept = g.pop("translations", None)
    with force_locale(locale):
        try:
            yield
        finally:
            g.pop("translations", None)
            if kept is not None:
                g.translations = kept


def init_app(app: Quart) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.globals["current_locale_code"] = current_locale_code
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
