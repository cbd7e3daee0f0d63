"""Running the site for real: under a path prefix behind a reverse proxy (proxy.py), static files
cached by browsers (static.py), slow requests profiled (profiling.py), requests no view should see
refused (refusals.py), the favicon and the web app manifest (icons.py). Serving it:
microblog/serve.py (the supervisor), worker.py, addresses.py."""
from quart import Quart

from . import icons, profiling, static
from ..config import normalise_prefix
from .proxy import BehindProxy
from .refusals import Refusals


def init_app(app: Quart) -> None:
    app.asgi_app = Refusals(BehindProxy(app.asgi_app, normalise_prefix(app.config.get("URL_PREFIX")),
                                        app.config["TRUSTED_PROXIES"] > 0))
    static.init_app(app)
    app.register_blueprint(icons.bp)
    profiling.init_app(app)
