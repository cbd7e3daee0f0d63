"""Logging: a rotating file in the instance folder, or stdout (Heroku, systemd)."""
import logging
import re
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from quart import Quart

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s [in %(pathname)s:%(lineno)d]"


SECRET_IN_PATH = re.compile(r"(/reset_password/)[^\s\"?/]+")


class HideSecrets(logging.Filter):
    """Password-reset tokens stay out of the logs: the access log's request line and the Referer
    of the requests the reset page makes, and the app's own lines ("Exception on request …")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):  # Hypercorn's access-log atoms (kept: they default to "-")
            for key, value in list(record.args.items()):
                if isinstance(value, str):
                    record.args[key] = SECRET_IN_PATH.sub(r"\1…", value)
        elif isinstance(record.msg, str):
            record.msg = SECRET_IN_PATH.sub(r"\1…", record.msg)
        return True


def hide_secrets_in_access_log() -> None:
    access_log = logging.getLogger("hypercorn.access")
    if not any(isinstance(f, HideSecrets) for f in access_log.filters):
        access_log.addFilter(HideSecrets())


def configure(config, instance_path: str, names: tuple[str, ...] = ("microblog",)) -> None:
    """INFO and above of the `names` loggers to stdout (LOG_TO_STDOUT) or to a rotating file in
    the instance folder: for the app, and for the serving supervisor, which has no app."""
    if config["LOG_TO_STDOUT"]:
        handler: logging.Handler = logging.StreamHandler(sys.stdout)
    else:
        log_dir = Path(instance_path) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(log_dir / "microblog.log", maxBytes=1_000_000, backupCount=10)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    handler.addFilter(HideSecrets())
    for name in names:
        logger = logging.getLogger(name)
        if not any(type(h) is type(handler) for h in logger.handlers):
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def init_app(app: Quart) -> None:
    hide_secrets_in_access_log()  # Hypercorn runs the app in its own process: its logger is here

    if app.config.get("TESTING"):
        return
    configure(app.config, app.instance_path, (app.logger.name, "microblog"))

    @app.before_serving
    async def _log_startup() -> None:
        app.logger.info("microblog starting (database: %s)", app.config["DATABASE_URL"].split("://")[0])
