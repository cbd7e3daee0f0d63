"""Running the site for real: under a path prefix behind a reverse proxy (proxy.py)."""
from quart import Quart

from .proxy import BehindProxy, normalise_prefix


def init_app(app: Quart) -> None:
    app.asgi_app = BehindProxy(app.asgi_app, normalise_prefix(app.config.get("URL_PREFIX")), app.config["TRUSTED_PROXIES"] > 0)
