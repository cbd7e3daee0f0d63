"""Full-text search of posts, from the navbar box to the index.

  query.py      what a searcher may type (the grammar), read into what both backends translate
  backend.py    what a backend offers; SEARCH_BACKEND=auto|whoosh|postgres chooses one
  whoosh.py     files in the instance folder (SEARCH_INDEX_DIR), written by jobs
  postgres.py   the database's own full-text search (a GIN index on the post table)
  indexing.py   the "search.sync" job, queued in the transaction that publishes or deletes a post
  highlight.py  matched words marked, safely
  routes.py     /search (page, active search, next pages) and the seed's /search_results/<q>
  cli.py        `quart search reindex`
"""
import os
from pathlib import Path

from quart import Quart

from ..posts import models as posts
from . import cli, postgres  # noqa: F401 (postgres declares the post table's GIN index)
from .backend import Backend, Hits, backend, choose_backend
from .indexing import SYNC, queue_sync
from .routes import bp

__all__ = ["SYNC", "Backend", "Hits", "backend", "init_app"]


def init_app(app: Quart) -> None:
    app.config.setdefault("SEARCH_BACKEND", (os.environ.get("SEARCH_BACKEND") or "auto").strip().lower())
    app.config.setdefault("SEARCH_INDEX_DIR", os.environ.get("SEARCH_INDEX_DIR")
                          or str(Path(app.instance_path) / "search-index"))
    app.extensions["search_backend"] = choose_backend(app)
    if queue_sync not in posts.post_changed:
        posts.post_changed.append(queue_sync)
    app.register_blueprint(bp)
    cli.init_app(app)
