"""Logging: a rotating file in the instance folder, or stdout (Heroku, systemd)."""
import logging
import re
import sys
import time
from dataclasses import dataclass
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


@dataclass
class _Seen:
    since: float  # when its window started
    count: int = 0  # lines held back in this window
    latest: str = ""
    level: int = logging.WARNING
    topic: str = ""
    what: str = ""


class Repeats:
    """Lines that repeat (the same failure, over and over while it lasts) logged once, then
    counted: at most one summary line per key every `interval` seconds, saying how many were held
    back and the latest of them. A site owner must see that something keeps failing and how
    often, not drown in thousands of identical lines a minute."""

    def __init__(self, logger: logging.Logger, interval: float = 60, clock=time.monotonic):
        self.logger, self.interval, self.clock = logger, interval, clock
        self._seen: dict = {}

    def log(self, level: int, key, topic: str, what: str, message: str) -> None:
        """Log `message`, or count it with the others of `key` (`topic`: what the summary says
        it is about, `what`: what is counted, e.g. "failed attempts")."""
        now = self.clock()
        seen = self._seen.get(key)
        if seen is None or (seen.count == 0 and now - seen.since >= self.interval):
            self._seen[key] = _Seen(since=now)
            # The text as the message (HideSecrets reads it), and the caller's place, not this one.
            self.logger.log(level, message, stacklevel=2)
            return
        seen.count, seen.latest, seen.level = seen.count + 1, message, max(seen.level, level)
        seen.topic, seen.what = topic, what
        if now - seen.since >= self.interval:
            self._summarise(seen, now)

    def flush(self, everything: bool = False) -> None:
        """Summarise the lines held back in windows that have ended (all of them: when stopping)."""
        now = self.clock()
        for seen in self._seen.values():
            if seen.count and (everything or now - seen.since >= self.interval):
                self._summarise(seen, now)

    def _summarise(self, seen: _Seen, now: float) -> None:
        self.logger.log(seen.level, f"{seen.topic}: {seen.count:,} more {seen.what} in the last "
                        f"{now - seen.since:.0f} s; the latest: {seen.latest}", stacklevel=3)
        seen.since, seen.count, seen.level = now, 0, logging.WARNING


def hide_secrets_in_access_log() -> None:
    access_log = logging.getLogger("hypercorn.access")
    if not any(isinstance(f, HideSecrets) for f in access_log.filters):
        access_log.addFilter(HideSecrets())


TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def configure(config, instance_path: str, names: tuple[str, ...] = ("microblog",), terminal=None) -> None:
    """INFO and above of the `names` loggers to stdout (LOG_TO_STDOUT) or to a rotating file in
    the instance folder: for the app, and for the serving supervisor, which has no app. Someone
    who started the site in a terminal (the README's run command) sees the lines there too,
    shorter: a mail that cannot leave is said where they look."""
    handlers: list[logging.Handler] = []
    if config["LOG_TO_STDOUT"]:
        handlers.append(_handler(logging.StreamHandler(sys.stdout), FORMAT))
    else:
        log_dir = Path(instance_path) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(_handler(RotatingFileHandler(log_dir / "microblog.log", maxBytes=1_000_000,
                                                     backupCount=10), FORMAT))
        terminal = terminal or sys.stderr
        if terminal.isatty():
            handlers.append(_handler(logging.StreamHandler(terminal), TERMINAL_FORMAT))
    for name in names:
        logger = logging.getLogger(name)
        for handler in handlers:
            if not any(type(h) is type(handler) for h in logger.handlers):
                logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _handler(handler: logging.Handler, format: str) -> logging.Handler:
    handler.setFormatter(logging.Formatter(format))
    handler.setLevel(logging.INFO)
    handler.addFilter(HideSecrets())
    return handler


def init_app(app: Quart) -> None:
    hide_secrets_in_access_log()  # Hypercorn runs the app in its own process: its logger is here

    if app.config.get("TESTING"):
        return
    configure(app.config, app.instance_path, (app.logger.name, "microblog"))

    @app.before_serving
    async def _log_startup() -> None:
        app.logger.info("microblog starting (database: %s)", app.config["DATABASE_URL"].split("://")[0])
