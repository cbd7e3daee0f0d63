"""Messages: building them, handing them to the SMTP server (or to the log with
MAIL_SUPPRESS_SEND), and saying in plain words why a server would not take one."""
import logging
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

import aiosmtplib
from quart import current_app

from .. import jobs
from ..db import utcnow

log = logging.getLogger("microblog.mail")


class MailNotSent(Exception):
    pass


class MailRefused(MailNotSent, jobs.Final):
    """The server refused the message for good (a 5xx answer): a job does not try it again."""


def mail_domain(config: dict) -> str:
    """The domain of the site's Message-IDs: the sender's, else BASE_URL's host."""
    domain = parseaddr(config.get("MAIL_DEFAULT_SENDER") or "")[1].rpartition("@")[2]
    return domain or urlsplit(config.get("BASE_URL") or "").hostname or "localhost"


def new_message_id() -> str:
    """A Message-ID chosen when a message is queued and kept for every attempt to send it: a
    retry after a send whose answer was lost is the same message, which mail systems drop."""
    return make_msgid("microblog", domain=mail_domain(current_app.config))


def build_message(subject: str, recipients: list[str], text: str, html: str | None = None,
                  sender: str | None = None, message_id: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender or current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or new_message_id()
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def readable(message: EmailMessage) -> str:
    """The headers that matter and the plain-text part, decoded (links stay clickable in a log)."""
    headers = "".join(f"{name}: {message[name]}\n" for name in ("Subject", "From", "To", "Message-ID"))
    text = message.get_body(("plain",))
    return headers + "\n" + (text.get_content() if text is not None else "")


def check_settings(config: dict) -> None:
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        raise RuntimeError("MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL (implicit TLS) are both set: "
                           "choose one (MAIL_USE_SSL for port 465, MAIL_USE_TLS for port 587).")


def starttls(config: dict) -> bool | None:
    """True: required (MAIL_USE_TLS). None: when the server offers it, so that a password is never
    sent in clear to a server that could have protected it. False: plain, for a relay without a
    password (often local, whose self-signed certificate must not stop the mail)."""
    if config.get("MAIL_USE_TLS"):
        return True
    if config.get("MAIL_USE_SSL"):
        return False
    return None if config.get("MAIL_USERNAME") else False


async def deliver(config: dict, message: EmailMessage) -> None:
    """Hand the message to the SMTP server (raises if it could not), or with MAIL_SUPPRESS_SEND
    write it to the log. A recipient refused among others accepted is only logged: sending again
    would give the others a second copy."""
    if config.get("MAIL_SUPPRESS_SEND"):
        log.info("MAIL_SUPPRESS_SEND: not sending this message:\n%s", readable(message))
        return
    refused, _answer = await aiosmtplib.send(
        message,
        hostname=config["MAIL_SERVER"], port=config["MAIL_PORT"],
        username=config.get("MAIL_USERNAME") or None, password=config.get("MAIL_PASSWORD") or None,
        use_tls=bool(config.get("MAIL_USE_SSL")),
        start_tls=starttls(config),
        timeout=config.get("MAIL_TIMEOUT", 30),
    )
    for address, answer in refused.items():
        log.warning("the mail server refused %s for %r: %s %s", address, message["Subject"],
                    answer.code, answer.message)


def describe_failure(error: BaseException, config: dict) -> str:
    """What went wrong, in words an operator can act on."""
    server = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    cause = error.__cause__
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{r.recipient} ({r.code} {r.message})" for r in error.recipients)
        return f"recipient refused: the mail server at {server} would not take mail for {refused}"
    if isinstance(error, aiosmtplib.SMTPRecipientRefused):
        return f"recipient refused: the mail server at {server} would not take mail for " \
               f"{error.recipient} ({error.code} {error.message})"
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return f"authentication refused: the mail server at {server} did not accept MAIL_USERNAME " \
               f"and MAIL_PASSWORD ({error.code} {error.message})"
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        hint = " (set MAIL_USE_TLS=1)" if "starttls" in error.message.lower() else \
            " (check MAIL_DEFAULT_SENDER)"
        return f"sender refused: the mail server at {server} would not take mail from " \
               f"{error.sender}: {error.code} {error.message}{hint}"
    if isinstance(error, ssl.SSLCertVerificationError) or isinstance(cause, ssl.SSLCertVerificationError):
        reason = getattr(error if isinstance(error, ssl.SSLError) else cause, "verify_message", "") or error
        return f"TLS failure: the certificate of {server} could not be verified ({reason})"
    if isinstance(error, ssl.SSLError) or isinstance(cause, ssl.SSLError):
        hint = ""
        if "wrong version number" in str(error).lower():
            hint = " (the server does not speak TLS from the start on this port: MAIL_USE_SSL is " \
                   "for port 465; for STARTTLS use MAIL_USE_TLS)"
        return f"TLS failure with {server}: {cause if isinstance(cause, ssl.SSLError) else error}{hint}"
    if isinstance(error, aiosmtplib.SMTPException) and "STARTTLS" in str(error):
        return f"TLS failure: the mail server at {server} does not offer STARTTLS (MAIL_USE_TLS is " \
               f"set; use MAIL_USE_SSL if it speaks TLS from the start)"
    if isinstance(error, aiosmtplib.SMTPException) and "AUTH" in str(error):
        return f"authentication impossible: the mail server at {server} offers no log-in on this " \
               f"connection ({error}); MAIL_USERNAME is set"
    if isinstance(error, ConnectionRefusedError) or isinstance(cause, ConnectionRefusedError):
        return f"connection refused: nothing accepts mail at {server} (check MAIL_SERVER and MAIL_PORT; " \
               f"to try the site without a mail server, MAIL_SUPPRESS_SEND=1 writes mail into the log)"
    if isinstance(error, (TimeoutError, aiosmtplib.SMTPTimeoutError)):
        return f"unreachable: no answer from {server} within {config.get('MAIL_TIMEOUT', 30):g} s"
    if isinstance(error, aiosmtplib.SMTPServerDisconnected):
        return f"the mail server at {server} closed the connection: {error}"
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"the mail server at {server} answered {error.code} {error.message}"
    if isinstance(error, OSError):  # no such host, no route, network down
        return f"unreachable: cannot connect to {server}: {cause or error}"
    return f"{type(error).__name__}: {error}"
