"""`quart db …` (Alembic migrations) and `quart translate …` (Babel catalogues)."""
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from babel.messages.frontend import CommandLineInterface
from quart import Quart

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


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

    translate = click.Group("translate", help="Translations (Babel).")
    app.cli.add_command(translate)
    translations = str(ROOT / "translations")
    pot = str(ROOT / "messages.pot")

    def extract():
        pybabel("extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-o", pot, str(ROOT))

    @translate.command(help="Start a new language, e.g. `quart translate init es`.")
    @click.argument("lang")
    def init(lang):
        extract()
        pybabel("init", "-i", pot, "-d", translations, "-l", lang)
        Path(pot).unlink()

    @translate.command(help="Update every language with new strings from the code.")
    def update():
        extract()
        pybabel("update", "-i", pot, "-d", translations)
        Path(pot).unlink()

    @translate.command(help="Compile every language (run after editing .po files).")
    def compile():
        pybabel("compile", "-d", translations)
