"""Logging: a rotating file in the instance folder, or stdout (Heroku, systemd)."""
import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from quart import Quart

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s [in %(pathname)s:%(lineno)d]"


def init_app(app: Quart) -> None:
    if app.config.get("TESTING"):
        return
    if app.config["LOG_TO_STDOUT"]:
        handler: logging.Handler = logging.StreamHandler(sys.stdout)
    else:
        log_dir = Path(app.instance_path) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(log_dir / "microblog.log", maxBytes=1_000_000, backupCount=10)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    for name in (app.logger.name, "microblog"):
        logger = logging.getLogger(name)
        if not any(type(h) is type(handler) for h in logger.handlers):
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)

    @app.before_serving
    async def _log_startup() -> None:
        app.logger.info("microblog starting (database: %s)", app.config["DATABASE_URL"].split("://")[0])
