"""Fixtures: a translation service on loopback, and an app that uses it."""
import pytest

from conftest import TEST_CONFIG, empty_database, make_post
from microblog import create_app

from .support import ProviderServer

SPANISH = "Hola a todos, hoy hace muy buen tiempo en Madrid."


def settings(request) -> dict:
    marker = request.node.get_closest_marker("settings")
    return marker.kwargs if marker else {}


@pytest.fixture
def provider(request):
    """The translation service on loopback: LibreTranslate, unless the test's settings name another."""
    server = ProviderServer(settings(request).get("TRANSLATOR", "libretranslate")).start()
    yield server
    server.stop()


@pytest.fixture
def translate_config(request, database_url, provider) -> dict:
    """The folder's settings; a test changes some with `@pytest.mark.settings(NAME=value)`."""
    return {**TEST_CONFIG, "DATABASE_URL": database_url, "TRANSLATOR": "libretranslate",
            "TRANSLATOR_URL": provider.url, "TRANSLATOR_KEY": "test-key", "TRANSLATOR_TIMEOUT": 2,
            **settings(request)}


@pytest.fixture
async def app(translate_config):
    """The app of the whole folder: translating with the loopback service."""
    await empty_database(translate_config["DATABASE_URL"])
    app = create_app(translate_config)
    async with app.test_app():
        yield app


@pytest.fixture
async def spanish_post(db, bob):
    post = await make_post(db, bob, SPANISH)
    post.language = "es"
    await db.commit()
    return post


def pytest_configure(config):
    config.addinivalue_line("markers", "settings(**config): app settings for one translate test")
