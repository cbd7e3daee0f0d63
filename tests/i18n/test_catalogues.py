"""Every marked string is in every catalogue, translated, and the catalogues hold nothing the
code no longer says. After a merge brings new strings: `quart translate update`, translate what
the failure lists, `quart translate compile`."""
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from microblog.i18n import cli
from microblog.i18n.cli import init_language, update_languages

ROOT = Path(__file__).resolve().parent.parent.parent
METHODS = [("microblog/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
LANGUAGES = sorted(p.name for p in (ROOT / "translations").iterdir() if p.is_dir())


def catalogue(code: str, translations: Path = ROOT / "translations"):
    with open(translations / code / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=code)


def strings_in_code() -> set[str]:
    return {msgid if isinstance(msgid, str) else msgid[0]
            for _file, _line, msgid, _comments, _context in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)}


def test_spanish_is_offered():
    assert "es" in LANGUAGES


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_catalogue_is_up_to_date_with_the_code(code):
    in_catalogue = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(code) if m.id}
    in_code = strings_in_code()
    assert not in_code - in_catalogue, ("run `quart translate update`; not in the catalogue yet:\n"
                                        + "\n".join(sorted(in_code - in_catalogue)))
    assert not in_catalogue - in_code, ("run `quart translate update`; no longer in the code:\n"
                                        + "\n".join(sorted(in_catalogue - in_code)))


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_string_is_translated(code):
    untranslated = []
    for message in catalogue(code):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and (message.fuzzy or not all(strings)):
            untranslated.append(message.id if isinstance(message.id, str) else message.id[0])
    assert not untranslated, f"translate into {code} (and drop any `fuzzy` flag):\n" + "\n".join(untranslated)


def test_locations_are_relative_and_without_line_numbers():
    for code in LANGUAGES:
        for message in catalogue(code):
            for filename, line in message.locations:
                assert not filename.startswith("/") and line is None, (code, filename, line)


def test_a_new_language_starts_with_every_string_of_the_code(tmp_path):
    po = init_language("fr", tmp_path)
    french = catalogue("fr", tmp_path)
    assert po == tmp_path / "fr/LC_MESSAGES/messages.po"
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in french if m.id} == strings_in_code()
    assert french.plural_forms == "nplurals=2; plural=(n > 1);"
    assert not any(m.string for m in french if m.id and isinstance(m.string, str))


def test_update_brings_new_strings_and_leaves_an_up_to_date_catalogue_alone(tmp_path):
    shutil.copytree(ROOT / "translations", tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.mo"))
    po = tmp_path / "es/LC_MESSAGES/messages.po"
    before = po.read_bytes()
    assert update_languages(tmp_path) == [] and po.read_bytes() == before
    po.write_bytes(before.replace(b'msgid "Language"\nmsgstr "Idioma"\n', b""))
    assert update_languages(tmp_path) == [po]
    assert catalogue("es", tmp_path)["Language"].string == ""  # back, to be translated


def test_adding_a_language_is_one_command(app, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "TRANSLATIONS", tmp_path)
    result = app.test_cli_runner().invoke(args=["translate", "init", "pt"])
    assert result.exit_code == 0, result.output
    po = tmp_path / "pt/LC_MESSAGES/messages.po"
    assert f"Translate {po}" in result.output and "LANGUAGES=en,es,pt" in result.output
    assert catalogue("pt", tmp_path)["Language"].string == ""
    result = app.test_cli_runner().invoke(args=["translate", "update"])
    assert result.exit_code == 0 and "Every catalogue was up to date." in result.output
