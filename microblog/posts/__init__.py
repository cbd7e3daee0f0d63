"""Posts: publishing and deleting them, the home timeline and explore."""
import asyncio

from quart import Quart

from . import cli, text
from .cards import post_cards
from .forms import post_form
from .language import detect_language_sync
from .models import Post
from .routes import bp, get_post, post_list

__all__ = ["Post", "get_post", "init_app", "post_cards", "post_list"]


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(post_form=post_form, post_cards=post_cards, post_url_pattern=text.URL_PATTERN,
                                 post_url_length=text.URL_LENGTH)
    app.jinja_env.filters["linkify"] = text.linkify
    cli.register_cli(app)

    @app.before_serving
    async def _load_language_profiles() -> None:
        # langdetect reads its profiles on first use (about a second): before the first post,
        # not during it.
        await asyncio.to_thread(detect_language_sync, "loading the language profiles now")
