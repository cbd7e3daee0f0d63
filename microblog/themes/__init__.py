"""Colours: light, dark, or whatever the browser prefers (the default), chosen on the Appearance
page and saved on the account, or in a cookie for visitors.

The server writes the choice into every page (`<html data-bs-theme="light|dark|auto">`), so no
script runs and nothing flashes. Bootstrap switches its colours on `data-bs-theme` alone; for
"auto", `static/bootstrap-auto-dark.css` (made from the vendored Bootstrap by `auto_css.py`) holds
its dark rules for `[data-bs-theme=auto]` under `@media (prefers-color-scheme: dark)`.

  routes.py    GET/POST /appearance
  auto_css.py  python -m microblog.themes.auto_css: rewrite static/bootstrap-auto-dark.css
"""
from quart import Quart

from .choice import THEMES, chosen_theme
from .routes import bp

__all__ = ["THEMES", "chosen_theme", "init_app"]


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["color_theme"] = chosen_theme
