"""microblog: a small self-hosted microblogging server (Quart + htmx)."""
from pathlib import Path

from quart import Quart, current_app, g, request
from quart_auth import QuartAuth
from quart_babel import Babel, get_locale

from . import auth, db, errors, logs, main, security
from .cli import register_cli
from .config import check_production_ready, from_environment

ROOT = Path(__file__).resolve().parent.parent


def select_locale() -> str | None:
    user = g.get("user")
    if user is not None and user.locale:
        return user.locale
    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


def current_locale_code() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def create_app(config: dict | None = None) -> Quart:
    app = Quart(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(from_environment(app.instance_path))
    app.config.update(config or {})
    check_production_ready(app.config)

    QuartAuth(app)
    app.jinja_env.globals["current_locale_code"] = current_locale_code
    Babel(app, locale_selector=select_locale, default_translation_directories=str(ROOT / "translations"))
    db.init_app(app)
    auth.init_app(app)  # before security: a CSRF refusal still knows who is logged in
    security.init_app(app)
    errors.init_app(app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    register_cli(app)

    logs.init_app(app)
    return app
