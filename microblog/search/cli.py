"""`quart search reindex`: the index again, from the database."""
import asyncio
import time

import click
from quart import Quart
from sqlalchemy import func, select

from .. import db as database
from ..posts.models import PUBLIC, Post
from .backend import backend


def register_cli(app: Quart) -> None:
    search = click.Group("search", help="Full-text search of posts.")
    app.cli.add_command(search)

    @search.command(help="Rebuild the search index from the database (with a progress bar).")
    def reindex():
        async def rebuild():
            async with database.command_context(app):
                async with database.new_session() as db:
                    total = await db.scalar(select(func.count()).select_from(Post).where(Post.visibility == PUBLIC))
                    started = time.monotonic()
                    with click.progressbar(length=total, label=f"indexing {total} posts") as bar:
                        await backend().rebuild(db, total, bar.update)
                    await db.commit()
                    return total, time.monotonic() - started
        total, seconds = asyncio.run(rebuild())
        click.echo(f"{total} posts indexed by {backend_name(app)} in {seconds:.1f} s")

    def backend_name(app: Quart) -> str:
        return app.extensions["search_backend"].name
