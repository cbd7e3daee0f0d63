"""`quart posts detect-languages`: store the language of posts that have none yet (posts written
before languages were detected, or imported), so "Translate" can be offered under them."""
import asyncio

import click
from quart import Quart
from sqlalchemy import func, select, update

from .. import db as database
from .language import detect_language_sync
from .models import Post

BATCH = 500


async def posts_to_detect(session, redo_all: bool) -> int:
    query = select(func.count()).select_from(Post)
    return await session.scalar(query if redo_all else query.where(Post.language == ""))


async def detect_languages(redo_all: bool, progress) -> tuple[int, int]:
    """Detect in batches (each committed, so an interrupted run keeps what it did): (posts
    looked at, languages found)."""
    seen = found = 0
    last_id = 0
    while True:
        async with database.separate_transaction() as session:
            query = select(Post.id, Post.body).where(Post.id > last_id).order_by(Post.id).limit(BATCH)
            if not redo_all:
                query = query.where(Post.language == "")
            rows = (await session.execute(query)).all()
            if not rows:
                return seen, found
            languages = await asyncio.to_thread(lambda: [detect_language_sync(body) for _id, body in rows])
            for (post_id, _body), language in zip(rows, languages):
                if language or redo_all:
                    await session.execute(update(Post).where(Post.id == post_id).values(language=language))
                found += bool(language)
        seen += len(rows)
        last_id = rows[-1][0]
        progress(len(rows))


def register_cli(app: Quart) -> None:
    posts = click.Group("posts", help="Posts.")
    app.cli.add_command(posts)

    @posts.command("detect-languages",
                   help="Detect the language of posts that have none (with --all: of every post).")
    @click.option("--all", "redo_all", is_flag=True, help="Detect every post's language again.")
    def detect_languages_command(redo_all):
        async def run():
            async with database.command_context(app):
                async with database.new_session() as session:
                    total = await posts_to_detect(session, redo_all)
                with click.progressbar(length=total, label="Detecting languages") as bar:
                    return await detect_languages(redo_all, bar.update)

        seen, found = asyncio.run(run())
        click.echo(f"{seen} post(s) looked at, a language found for {found}; "
                   f"{seen - found} too short or unclear (left without one).")
