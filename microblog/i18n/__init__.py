"""Every reader in their own language and time zone: choosing the language (account, cookie,
Accept-Language), times relative and exact in the reader's zone, numbers, the language menu,
and `quart translate …`."""
from quart import Quart, g
from quart_babel import Babel

from . import cli
from .locales import (TRANSLATIONS, current_locale_code, gettext, language_name, language_names, lazy_gettext, ngettext, primary,
                      select_locale, speaking, template_gettext, template_ngettext, translations, user_locale)
from .routes import bp
from .times import calendar_time, known_zone, number, relative_time, zone_choices, zone_names

__all__ = ["current_locale_code", "gettext", "init_app", "lazy_gettext", "ngettext", "primary", "known_zone", "speaking",
           "user_locale", "zone_choices", "zone_names"]


def init_app(app: Quart) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    app.register_blueprint(bp)
    cli.register_cli(app)
    @app.after_request
    async def _vary_on_language(response):
        if g.get("locale_from_request"):
            response.vary.add("Accept-Language")
        return response

    env = app.jinja_env
    env.globals.update(current_locale_code=current_locale_code, language_names=language_names)
    env.filters.update(relative_time=relative_time, calendar_time=calendar_time, number=number,
                       language_name=language_name)
    # Newstyle gettext (what `{% trans %}` compiles to), without Jinja's own wrappers.
    env.newstyle_gettext = True
    env.globals.update(gettext=template_gettext, _=template_gettext, ngettext=template_ngettext)
