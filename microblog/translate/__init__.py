"""Translating posts in place: "Translate" under a post in another language than the reader's.

  providers.py  Microsoft Translator, DeepL, LibreTranslate behind one interface (TRANSLATOR=…)
  models.py     the translations kept per (post, language); each reader's allowance per hour
  service.py    cache, allowance, the call to the provider, and what a failure tells the reader
  routes.py     POST /post/<id>/translate (htmx fragment or a page), GET for "Show original"
"""
import httpx
from quart import Quart, g

from .. import events
from ..i18n import primary
from ..web import add_partial
from .models import PostTranslation, TranslationAllowance
from .providers import PROVIDERS, TranslationFailed, Translator, translator_from
from .routes import bp
from .service import offer_for, offered

__all__ = ["PROVIDERS", "PostTranslation", "TranslationAllowance", "TranslationFailed", "Translator",
           "init_app", "primary", "translator_from"]


def offered_to_reader(post) -> bool:
    """Whether "Translate" is shown under `post` to this request's reader."""
    return offered(post, g.get("user"))


def offers_to_reader():
    """`offered_to_reader`, for a page of posts (a kept post card differs by it)."""
    return offer_for(g.get("user"))


def init_app(app: Quart) -> None:
    service = translator_from(app.config)
    if service is not None:
        app.extensions["translator"] = service
    app.register_blueprint(bp)
    app.jinja_env.globals["translation_offered"] = offered_to_reader
    events.post_card_keys.connect(offers_to_reader)
    add_partial(app, "post.under", "translate/_post_translation.html")
    if service is None:
        return  # nothing to call: no HTTP client (its TLS context alone costs ~28 ms a start)

    @app.before_serving
    async def _open_client() -> None:
        # One client per worker: connections to the provider are kept and reused.
        app.extensions["translate_http"] = httpx.AsyncClient(
            timeout=app.config["TRANSLATOR_TIMEOUT"], follow_redirects=False,
            headers={"User-Agent": "microblog"})

    @app.after_serving
    async def _close_client() -> None:
        client = app.extensions.pop("translate_http", None)
        if client is not None:
            await client.aclose()
