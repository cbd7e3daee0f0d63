"""`quart db …` (Alembic migrations); `quart translate …` lives in microblog/i18n."""
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from quart import Quart

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def register_cli(app: Quart) -> None:
    db = click.Group("db", help="Database migrations (Alembic).")
    app.cli.add_command(db)

    def cfg() -> AlembicConfig:
        return alembic_config(app.config["DATABASE_URL"])

    @db.command(help="Upgrade the database to a revision (default: the latest).")
    @click.argument("revision", default="head")
    def upgrade(revision):
        command.upgrade(cfg(), revision)

    @db.command(help="Downgrade the database to a revision (default: one step back).")
    @click.argument("revision", default="-1")
    def downgrade(revision):
        command.downgrade(cfg(), revision)

    @db.command(help="Create a migration; --autogenerate compares the models with the database.")
    @click.option("-m", "--message", required=True)
    @click.option("--autogenerate", is_flag=True)
    def revision(message, autogenerate):
        command.revision(cfg(), message=message, autogenerate=autogenerate)

    @db.command(help="Show the database's current revision.")
    def current():
        command.current(cfg(), verbose=True)

    @db.command(help="Fail if the models and the migrations disagree.")
    def check():
        command.check(cfg())
