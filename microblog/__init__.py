"""microblog: a small self-hosted microblogging server (Quart + htmx).

`create_app` reads the configuration, sets up the extensions and the layers every request goes
through, then lets each feature (a folder with its own models, routes and templates) register
itself. Nothing else lives here.
"""
from pathlib import Path

from quart_auth import QuartAuth

from . import (accounts, avatars, blocks, clock, db, deployment, errors, federation, follows, i18n, jobs, logs, mail, posts,
               profiles, search, security, themes, translate)
from .cli import register_cli
from .config import check_production_ready, check_supported_database, from_environment
from .render_cache import navbar
from .web import App

ROOT = Path(__file__).resolve().parent.parent
FEATURES = (accounts, posts, follows, profiles, avatars, mail, search, themes, translate, federation, blocks)


def create_app(config: dict | None = None) -> App:
    app = App(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(from_environment(app.instance_path))
    app.config.update(config or {})
    check_production_ready(app.config)
    check_supported_database(app.config)

    # The log-in and session cookies are signed on microblog's clock (clock.py): one that steps
    # back logs nobody out.
    QuartAuth(app, serializer_class=clock.AuthCookies)
    app.session_interface = clock.SessionCookies()
    app.jinja_env.globals["navbar"] = navbar  # the layout's, kept rendered
    i18n.init_app(app)
    db.init_app(app)
    jobs.init_app(app)
    for feature in FEATURES:  # accounts first: a CSRF refusal still knows who is logged in
        feature.init_app(app)
    security.init_app(app)
    deployment.init_app(app)
    errors.init_app(app)
    register_cli(app)

    logs.init_app(app)
    return app

