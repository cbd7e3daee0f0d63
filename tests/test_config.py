"""Settings from the environment, the production guard and where logs go."""
import logging
import sys
from logging.handlers import RotatingFileHandler

import pytest
from quart import Quart

from microblog import create_app, logs
from microblog.config import DEV_SECRET_KEY, from_environment, normalise_database_url


@pytest.mark.parametrize("url, expected", [
    ("postgres://u:p@db.example:5432/app", "postgresql+asyncpg://u:p@db.example:5432/app"),
    ("postgresql://postgres@127.0.0.1:5432/test", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
    ("postgresql+asyncpg://u@h/app", "postgresql+asyncpg://u@h/app"),
    ("sqlite:///instance/app.sqlite", "sqlite+aiosqlite:///instance/app.sqlite"),
    ("sqlite:////abs/path/app.sqlite", "sqlite+aiosqlite:////abs/path/app.sqlite"),
    ("sqlite+aiosqlite:///instance/app.sqlite", "sqlite+aiosqlite:///instance/app.sqlite"),
])
def test_normalise_database_url(url, expected):
    assert normalise_database_url(url) == expected
    assert normalise_database_url(expected) == expected  # idempotent


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No settings from the shell or from a .env file."""
    monkeypatch.setenv("MICROBLOG_DOTENV", str(tmp_path / "no.env"))
    for name in ("SECRET_KEY", "QUART_DEBUG", "DATABASE_URL", "SECURE_COOKIES", "LOG_TO_STDOUT",
                 "BASE_URL", "MAIL_PORT", "LANGUAGES", "ADMINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite'}")
    return monkeypatch


def test_production_refuses_to_start_without_secret_key(clean_env):
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app()


def test_testing_and_debug_start_without_secret_key(clean_env):
    app = create_app({"TESTING": True})
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY
    clean_env.setenv("QUART_DEBUG", "1")
    assert create_app({"TESTING": True}).config["DEBUG"] is True
    assert from_environment(app.instance_path)["DEBUG"] is True


def test_environment_settings(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "s3cret")
    clean_env.setenv("DATABASE_URL", "postgres://u@h/app")
    clean_env.setenv("SECURE_COOKIES", "0")
    clean_env.setenv("BASE_URL", "https://example.org/microblog/")
    clean_env.setenv("ADMINS", "a@example.org, b@example.org")
    config = from_environment(str(tmp_path))
    assert config["SECRET_KEY"] == "s3cret"
    assert config["DATABASE_URL"] == "postgresql+asyncpg://u@h/app"
    assert config["SESSION_COOKIE_SECURE"] is False and config["QUART_AUTH_COOKIE_SECURE"] is False
    assert config["BASE_URL"] == "https://example.org/microblog"
    assert config["ADMINS"] == ["a@example.org", "b@example.org"]


def test_defaults(clean_env, tmp_path):
    clean_env.delenv("DATABASE_URL")
    config = from_environment(str(tmp_path))
    assert config["DATABASE_URL"] == f"sqlite+aiosqlite:///{tmp_path / 'microblog.sqlite'}"
    assert config["SESSION_COOKIE_SECURE"] is True and config["QUART_AUTH_COOKIE_SECURE"] is True
    assert config["QUART_AUTH_COOKIE_SAMESITE"] == "Lax" and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["LANGUAGES"] == ["en", "es"]


def test_dotenv_file_is_read(clean_env, tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text("SECRET_KEY=from-dotenv\n")
    clean_env.setenv("MICROBLOG_DOTENV", str(env_file))
    try:
        assert from_environment(str(tmp_path))["SECRET_KEY"] == "from-dotenv"
    finally:
        # load_dotenv writes into os.environ, out of monkeypatch's sight.
        clean_env.delenv("SECRET_KEY", raising=False)


@pytest.fixture
def logging_app(tmp_path):
    """A production-like (not testing) app; the loggers it touches are restored afterwards."""
    names = ("microblog", "logging_app")
    saved = {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).level) for n in names}
    app = Quart("logging_app", instance_path=str(tmp_path / "instance"))
    yield app
    for name, (handlers, level) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers[:] = handlers
        logger.setLevel(level)


def test_logs_go_to_a_rotating_file_in_the_instance_folder(logging_app, tmp_path):
    logging_app.config["LOG_TO_STDOUT"] = False
    logs.init_app(logging_app)
    [handler] = [h for h in logging.getLogger("microblog").handlers if isinstance(h, RotatingFileHandler)]
    log_file = tmp_path / "instance" / "logs" / "microblog.log"
    assert handler.baseFilename == str(log_file)
    assert handler.maxBytes > 0 and handler.backupCount > 0
    logging.getLogger("microblog.mail").warning("a line for the file")
    logging_app.logger.info("the app logs here too")
    handler.flush()
    content = log_file.read_text()
    assert "WARNING microblog.mail: a line for the file" in content
    assert "INFO logging_app: the app logs here too" in content

    logs.init_app(logging_app)  # twice: still one file handler
    assert len([h for h in logging.getLogger("microblog").handlers if isinstance(h, RotatingFileHandler)]) == 1


def test_logs_go_to_stdout_when_asked(logging_app, tmp_path, capsys):
    logging_app.config["LOG_TO_STDOUT"] = True
    logs.init_app(logging_app)
    handlers = logging.getLogger("microblog").handlers
    assert not any(isinstance(h, RotatingFileHandler) for h in handlers)
    [handler] = [h for h in handlers if type(h) is logging.StreamHandler]
    assert handler.stream is sys.stdout
    assert not (tmp_path / "instance" / "logs").exists()


def test_testing_app_leaves_logging_alone(logging_app, tmp_path):
    logging_app.config.update(TESTING=True, LOG_TO_STDOUT=False)
    before = list(logging.getLogger("microblog").handlers)
    logs.init_app(logging_app)
    assert logging.getLogger("microblog").handlers == before
    assert not (tmp_path / "instance" / "logs").exists()


def test_production_refuses_to_start_without_base_url(clean_env):
    """Mail links are never built from a Host header a stranger sent."""
    clean_env.setenv("SECRET_KEY", "a-real-secret")
    with pytest.raises(RuntimeError, match="BASE_URL"):
        create_app()


def test_production_starts_with_a_secret_key(clean_env, logging_app):
    clean_env.setenv("SECRET_KEY", "a-real-secret")
    clean_env.setenv("BASE_URL", "https://microblog.example")
    clean_env.setenv("LOG_TO_STDOUT", "1")  # keep the repository's instance/logs out of it
    app = create_app()
    assert app.config["SECRET_KEY"] == "a-real-secret"
    assert not app.config.get("TESTING") and not app.config["DEBUG"]
    assert any(type(h) is logging.StreamHandler for h in logging.getLogger("microblog").handlers)


def test_reset_tokens_stay_out_of_the_apps_own_log_lines():
    import logging

    from microblog.logs import HideSecrets
    record = logging.LogRecord("microblog", logging.ERROR, __file__, 1,
                               "Exception on request GET /auth/reset_password/SeCrEt.tok-en", None, None)
    assert HideSecrets().filter(record) is True
    assert record.getMessage() == "Exception on request GET /auth/reset_password/…"
