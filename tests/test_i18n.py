"""Every UI string is translatable and Spanish is complete."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from conftest import text_of

ROOT = Path(__file__).resolve().parent.parent
METHODS = [("microblog/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def spanish():
    with open(ROOT / "translations/es/LC_MESSAGES/messages.po", "rb") as f:
        return read_po(f, locale="es")


def test_spanish_translates_every_string_in_the_code():
    catalog = spanish()
    in_code = {msgid if isinstance(msgid, str) else msgid[0]
               for _file, _line, msgid, _comments, _context in extract_from_dir(
                   str(ROOT), METHODS, keywords=KEYWORDS)}
    missing = sorted(m for m in in_code if m not in catalog)
    assert not missing, "run `quart translate update` and translate: " + repr(missing)
    for message in catalog:
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings) and not message.fuzzy, f"untranslated: {message.id!r}"


async def test_pages_follow_accept_language(client):
    page = await text_of(await client.get("/auth/login", headers={"Accept-Language": "es-ES,es;q=0.9"}))
    assert '<html lang="es">' in page
    assert "<title>Iniciar sesión - microblog</title>" in page
    page = await text_of(await client.get("/auth/login", headers={"Accept-Language": "en-GB,en;q=0.9"}))
    assert '<html lang="en">' in page and "<title>Sign In - microblog</title>" in page
