"""Errors to the admins: an unhandled exception in a request mails ADMINS a report (subject
"microblog failure": the traceback, the request's method and path, the user's id).

Reports are limited per kind of error (its type and where it was raised): the first goes out,
then at most one per ERROR_MAIL_INTERVAL, saying how many were held back meanwhile. The limit is
kept in the database (mail_limit), claimed with the report's job in a transaction of their own
(the request's is rolled back), so a crash loop on two workers mails as little as on one. When the
database is itself the trouble (unreachable, read-only, busy) or the job cannot be written, the
report cannot be a job: it is sent directly, with a time limit, limited per process in memory.
All of it runs after the error page has been answered (a background task): the page never waits.

Nothing secret goes out: no query string, reset tokens taken out of the path and the traceback,
no cookies, headers or form data.
"""
import asyncio
import hashlib
import os
import socket
import traceback
from dataclasses import dataclass
from datetime import timedelta
from time import monotonic

from quart import Quart, current_app, g, request
from quart.signals import got_request_exception
from sqlalchemy import inspect

from .. import db as database
from ..db import utcnow
from ..logs import SECRET_IN_PATH
from . import limits
from .messages import build_message, deliver, describe_failure, log
from .sending import send_email

SUBJECT = "microblog failure"


def _hide_secrets(text: str, secrets: list[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, "…")
    return SECRET_IN_PATH.sub(r"\1…", text)


def _secrets_in_url() -> list[str]:
    """The values of URL parts named like tokens (a reset link's), wherever else they show up."""
    return [value for name, value in (request.view_args or {}).items()
            if "token" in name.lower() and isinstance(value, str) and len(value) >= 8]


DRIVERS = ("microblog.sqlite",)  # ours, but where every statement runs: not the place to name


def fingerprint(error: BaseException) -> tuple[str, str]:
    """(a key for the kind of error, where it was raised): its type, the innermost frame and the
    innermost frame of the app's own code (module, function, line: the same on every host)."""
    innermost = ours = None
    tb = error.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "?")
        innermost = f"{module}.{tb.tb_frame.f_code.co_name}:{tb.tb_lineno}"
        if (module == "microblog" or module.startswith("microblog.")) and module not in DRIVERS:
            ours = innermost
        tb = tb.tb_next
    kind = f"{type(error).__module__}.{type(error).__qualname__}"
    key = hashlib.sha256(f"{kind}|{innermost}|{ours}".encode()).hexdigest()[:40]
    return key, ours or innermost or "?"


@dataclass
class ErrorReport:
    key: str
    error: str
    where: str
    route: str
    endpoint: str
    user_id: int | None
    traceback: str
    trouble: str | None  # what is wrong with the database, if that is the trouble
    when: str
    host: str

    @classmethod
    def of_request(cls, error: BaseException) -> "ErrorReport":
        """What is worth telling of `error` and the request it broke (called while it is handled)."""
        key, where = fingerprint(error)
        trouble = database.unavailability(error)
        if trouble is not None:  # one outage fails every page, each in its place: one report for it
            key = hashlib.sha256(f"database {trouble}".encode()).hexdigest()[:40]
        secrets = _secrets_in_url()
        path = _hide_secrets(request.path, secrets) + ("?…" if request.query_string else "")
        first_line = f"{type(error).__name__}: {error}".splitlines()[0]
        return cls(key=key, error=_hide_secrets(first_line, secrets)[:500], where=where,
                   route=f"{request.method} {path}", endpoint=request.endpoint or "-", user_id=_user_id(),
                   traceback=_hide_secrets("".join(traceback.format_exception(error)), secrets),
                   trouble=trouble, when=f"{utcnow():%Y-%m-%d %H:%M:%S} UTC",
                   host=f"{socket.gethostname()} (process {os.getpid()})")

    def text(self, held_back: int, interval: float, sent_directly: bool = False) -> str:
        lines = [f"An unexpected error on {self.host} at {self.when}:", "",
                 f"  error:    {self.error}", f"  raised in {self.where}",
                 f"  request:  {self.route} (endpoint {self.endpoint})",
                 f"  user id:  {self.user_id if self.user_id is not None else 'not logged in'}", ""]
        if held_back:
            lines += [f"{held_back} more error(s) of this kind were not mailed since the last report.", ""]
        if sent_directly:
            lines += [f"The database is {self.trouble or 'out of reach'}: this report was mailed directly "
                      "(not queued), and reports are limited per process meanwhile.", ""]
        lines += [self.traceback.rstrip(), "",
                  f"Errors of one kind (type and place) are mailed at most once every {interval / 60:g} "
                  "minute(s); the next report counts the others."]
        return "\n".join(lines) + "\n"


def _user_id() -> int | None:
    """The logged-in user's id, without touching the database (the request's session may be broken)."""
    user = g.get("user")
    try:
        identity = inspect(user).identity if user is not None else None
    except Exception:
        return None
    return identity[0] if identity else None


async def _on_request_exception(app: Quart, exception: BaseException, **_extra) -> None:
    if not (app.config["REPORT_ERRORS"] and app.config["ADMINS"]):
        return
    try:
        report = ErrorReport.of_request(exception)
    except Exception:
        log.exception("could not describe an error for the admins")
        return
    app.add_background_task(report_error, report)


async def report_error(report: ErrorReport) -> None:
    """Queue the report as a job if its kind is due (limited in the database), or, when the
    database is the trouble, mail it directly (limited in this process)."""
    config = current_app.config
    if report.trouble is None:
        try:
            await asyncio.wait_for(_queue(report), config["MAIL_TIMEOUT"])
            return
        except Exception as error:
            log.warning("could not queue an error report (%s: %s): mailing it directly",
                        type(error).__name__, error)
            report.trouble = database.unavailability(error) or "failing"
    await _send_directly(report)


async def _queue(report: ErrorReport) -> None:
    config = current_app.config
    interval = config["ERROR_MAIL_INTERVAL"]
    async with database.separate_transaction() as db:
        held_back = await limits.claim(db, f"error:{report.key}", timedelta(seconds=interval))
        if held_back is not None:
            send_email(db, SUBJECT, list(config["ADMINS"]), report.text(held_back, interval))


async def _send_directly(report: ErrorReport) -> None:
    config = current_app.config
    interval = config["ERROR_MAIL_INTERVAL"]
    recent = current_app.extensions.setdefault("mail_direct_reports", {})
    last_sent, held_back = recent.get(report.key, (None, 0))
    if last_sent is not None and monotonic() - last_sent < interval:
        recent[report.key] = (last_sent, held_back + 1)
        return
    recent[report.key] = (monotonic(), 0)
    message = build_message(SUBJECT, list(config["ADMINS"]),
                            report.text(held_back, interval, sent_directly=True))
    try:
        await asyncio.wait_for(deliver(config, message), config["MAIL_TIMEOUT"])
    except Exception as error:
        log.error("could not mail an error report to the admins (%s): %s",
                  describe_failure(error, config), report.error)


def init_app(app: Quart) -> None:
    # Production only, unless a test turns it on.
    app.config.setdefault("REPORT_ERRORS", not (app.testing or app.debug))
    got_request_exception.connect(_on_request_exception, app)
