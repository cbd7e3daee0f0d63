"""`quart db …` (Alembic migrations); `quart translate …` lives in microblog/i18n."""
from pathlib import Path

from typing import TYPE_CHECKING

import click
from quart import Quart

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# Alembic is imported by the commands that use it: a web worker never needs its 10 MB.

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> "AlembicConfig":
    from alembic.config import Config as AlembicConfig
    cfg = AlembicConfig(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def alembic():
    from alembic import command
    return command


def register_cli(app: Quart) -> None:
    db = click.Group("db", help="Database migrations (Alembic).")
    app.cli.add_command(db)

    def cfg() -> "AlembicConfig":
        return alembic_config(app.config["DATABASE_URL"])

    @db.command(help="Upgrade the database to a revision (default: the latest).")
    @click.argument("revision", default="head")
    def upgrade(revision):
        alembic().upgrade(cfg(), revision)

    @db.command(help="Downgrade the database to a revision (default: one step back).")
    @click.argument("revision", default="-1")
    def downgrade(revision):
        alembic().downgrade(cfg(), revision)

    @db.command(help="Create a migration; --autogenerate compares the models with the database.")
    @click.option("-m", "--message", required=True)
    @click.option("--autogenerate", is_flag=True)
    def revision(message, autogenerate):
        alembic().revision(cfg(), message=message, autogenerate=autogenerate)

    @db.command(help="Show the database's current revision.")
    def current():
        alembic().current(cfg(), verbose=True)

    @db.command(help="Fail if the models and the migrations disagree.")
    def check():
        alembic().check(cfg())
