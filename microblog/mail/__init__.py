"""Outgoing mail. Every message is a job committed with the change that causes it (nothing is sent
for a change that rolls back), and the job runner sends it: no request ever waits for the SMTP
server, and a message survives restarts and an SMTP server that is down for hours. Each message
keeps one Message-ID through all its attempts, so a retry of a send whose answer was lost is a
duplicate mail systems recognise.

  messages.py   building messages, handing them to the server (or the log), explaining failures
  sending.py    the "mail.send" job: messages rendered when queued (error reports)
  limits.py     how often one kind of mail may go out (database-wide)
  reports.py    unhandled errors mailed to ADMINS
  cli.py        `quart mail test ADDRESS`
"""
from quart import Quart

from . import cli, reports
from . import limits
from .limits import MailLimit
from .messages import MailNotSent, MailRefused, build_message, check_settings, deliver, describe_failure
from .sending import SEND, job_message_id, send, send_email

__all__ = ["SEND", "MailLimit", "MailNotSent", "MailRefused", "build_message", "deliver", "describe_failure",
           "init_app", "job_message_id", "limits", "send", "send_email"]


def init_app(app: Quart) -> None:
    check_settings(app.config)
    reports.init_app(app)
    cli.register_cli(app)
