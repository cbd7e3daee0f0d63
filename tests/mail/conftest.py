"""Fixtures for mail: a real SMTP server (aiosmtpd) on this machine, and an app that mails it."""
import pytest

from conftest import TEST_CONFIG, free_port, reset_schema
from microblog import create_app

from .support import BASE_URL, SENDER, SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


def mail_config(database_url: str, smtp_port: int, **config) -> dict:
    return {**TEST_CONFIG, "DATABASE_URL": database_url, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port,
            "MAIL_DEFAULT_SENDER": SENDER, "BASE_URL": BASE_URL, **config}


@pytest.fixture
async def mail_app(database_url, smtp):
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, smtp.port))
    async with app.test_app():
        yield app
