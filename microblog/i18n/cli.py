"""`quart translate …`: keep the catalogues in step with the code, start a language, compile."""
import contextlib
import re
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from quart import Quart

from .locales import TRANSLATIONS

ROOT = TRANSLATIONS.parent
# Sources are named relative to the checkout and without line numbers, so the .po files do not
# change with the directory they were made in, nor with every edit above a string.
EXTRACT = ["extract", "-F", "babel.cfg", "-k", "_l", "--add-location=file", "--sort-by-file",
           "--project=microblog", "-o", "messages.pot", "."]


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


@contextlib.contextmanager
def template(root: Path = ROOT):
    """messages.pot, freshly extracted from the sources under `root`, removed afterwards."""
    with contextlib.chdir(root):
        pybabel(*EXTRACT)
        try:
            yield "messages.pot"
        finally:
            Path("messages.pot").unlink()


def init_language(code: str, translations: Path | None = None) -> Path:
    """A new catalogue for `code` with every string of the code, ready to translate."""
    translations = translations or TRANSLATIONS
    with template() as pot:
        pybabel("init", "-i", pot, "-d", str(translations), "-l", code)
    return translations / code / "LC_MESSAGES" / "messages.po"


def update_languages(translations: Path | None = None) -> list[Path]:
    """Every catalogue in step with the code; the ones that changed. A catalogue whose strings
    did not change is left as it was (not even a new date), so branches do not conflict over it."""
    translations = translations or TRANSLATIONS
    before = {po: po.read_bytes() for po in translations.glob("*/LC_MESSAGES/messages.po")}
    with template() as pot:
        pybabel("update", "-i", pot, "-d", str(translations), "--ignore-obsolete")
    changed = []
    for po, old in before.items():
        if _without_date(po.read_bytes()) == _without_date(old):
            po.write_bytes(old)
        else:
            changed.append(po)
    return changed


def _without_date(po: bytes) -> bytes:
    return re.sub(rb'"POT-Creation-Date: [^"]*"', b"", po, count=1)


def register_cli(app: Quart) -> None:
    translate = click.Group("translate", help="Translations (Babel).")
    app.cli.add_command(translate)

    @translate.command(help="Start a new language, e.g. `quart translate init fr`.")
    @click.argument("lang")
    def init(lang):
        po = init_language(lang)
        click.echo(f"Translate {po}, run `quart translate compile`, and add {lang} "
                   "to LANGUAGES (e.g. LANGUAGES=en,es," + lang + ") to offer it.")

    @translate.command(help="Update every language with the strings now in the code (after a merge).")
    def update():
        changed = update_languages()
        for po in changed:
            click.echo(f"Updated {po}")
        click.echo("Now translate the new strings (tests/i18n/test_catalogues.py lists them), then "
                   "`quart translate compile`." if changed else "Every catalogue was up to date.")

    @translate.command(help="Compile every language (run after editing .po files).")
    def compile():
        pybabel("compile", "-d", str(TRANSLATIONS))
        click.echo("Compiled.")
