"""Full-text search of posts, from the navbar box to the index.

  query.py      what a searcher may type (the grammar), read into what both backends translate
  backend.py    what every backend offers (choose_backend, below, picks one by SEARCH_BACKEND)
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

from .. import events
from . import cli
from .backend import Backend, Hits, backend
from .postgres import PostgresBackend  # also declares the post table's GIN index
from .whoosh import WhooshBackend
from .indexing import SYNC, queue_sync
from .routes import bp

__all__ = ["SYNC", "Backend", "Hits", "backend", "init_app"]


def init_app(app: Quart) -> None:
    app.config.setdefault("SEARCH_BACKEND", (os.environ.get("SEARCH_BACKEND") or "auto").strip().lower())
    app.config.setdefault("SEARCH_INDEX_DIR", os.environ.get("SEARCH_INDEX_DIR")
                          or str(Path(app.instance_path) / "search-index"))
    app.extensions["search_backend"] = choose_backend(app)
    events.post_published.connect(queue_sync)
    events.post_updated.connect(queue_sync)
    events.post_deleted.connect(queue_sync)
    app.register_blueprint(bp)
    cli.register_cli(app)


def choose_backend(app: Quart) -> Backend:
    """The backend SEARCH_BACKEND=auto|whoosh|postgres names (auto: PostgreSQL's own on PostgreSQL)."""
    name = app.config["SEARCH_BACKEND"]
    if name == "auto":
        name = "postgres" if app.config["DATABASE_URL"].startswith("postgresql") else "whoosh"
    if name == "postgres":
        if not app.config["DATABASE_URL"].startswith("postgresql"):
            raise RuntimeError("SEARCH_BACKEND=postgres needs a PostgreSQL DATABASE_URL")
        return PostgresBackend()
    if name == "whoosh":
        return WhooshBackend(app.config["SEARCH_INDEX_DIR"])
    raise RuntimeError(f"SEARCH_BACKEND must be auto, whoosh or postgres, not {name!r}")
