"""Outgoing mail, sent in the background so a request never waits for the SMTP server."""
import asyncio
import logging
from email.message import EmailMessage

import aiosmtplib
from quart import current_app

log = logging.getLogger("microblog.mail")

RETRY_DELAYS = (1, 5, 30)


def build_message(subject: str, recipients: list[str], text: str, html: str | None = None,
                  sender: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender or current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join(recipients)
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


async def deliver(config: dict, message: EmailMessage, delays=RETRY_DELAYS) -> bool:
    """Send with retries; every failure is logged, a final failure loudly."""
    for attempt, delay in enumerate((0, *delays), start=1):
        if delay:
            await asyncio.sleep(delay)
        try:
            await aiosmtplib.send(
                message,
                hostname=config["MAIL_SERVER"], port=config["MAIL_PORT"],
                username=config.get("MAIL_USERNAME"), password=config.get("MAIL_PASSWORD"),
                start_tls=config.get("MAIL_USE_TLS") or None, timeout=30,
            )
            return True
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("sending %r to %s failed (attempt %d): %s",
                        message["Subject"], message["To"], attempt, exc)
    log.error("gave up sending %r to %s", message["Subject"], message["To"])
    return False


def send_email(subject: str, recipients: list[str], text: str, html: str | None = None) -> None:
    message = build_message(subject, recipients, text, html)
    config = dict(current_app.config)
    current_app.add_background_task(deliver, config, message)
