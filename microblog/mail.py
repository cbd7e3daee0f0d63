"""Outgoing mail. A message is a job committed with the change that causes it (nothing is sent for
a change that rolls back), and the job runner sends it: no request ever waits for the SMTP server,
and a message survives restarts and an SMTP server that is down for hours."""
from email.message import EmailMessage

import aiosmtplib
from quart import current_app
from sqlalchemy.ext.asyncio import AsyncSession

from . import jobs

SEND = "mail.send"


class MailNotSent(Exception):
    pass


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


async def deliver(config: dict, message: EmailMessage) -> None:
    """Hand the message to the SMTP server; raises if it could not."""
    await aiosmtplib.send(
        message,
        hostname=config["MAIL_SERVER"], port=config["MAIL_PORT"],
        username=config.get("MAIL_USERNAME"), password=config.get("MAIL_PASSWORD"),
        start_tls=config.get("MAIL_USE_TLS") or None, timeout=30,
    )


def send_email(db: AsyncSession, subject: str, recipients: list[str], text: str,
               html: str | None = None) -> None:
    """Queue a message in `db`'s transaction (the request's, usually)."""
    jobs.enqueue(db, SEND, {"subject": str(subject), "recipients": recipients, "text": text, "html": html,
                            "sender": current_app.config["MAIL_DEFAULT_SENDER"]})


@jobs.handler(SEND)
async def _send(job: jobs.Job) -> None:
    payload = job.payload
    message = build_message(payload["subject"], payload["recipients"], payload["text"], payload["html"],
                            sender=payload["sender"])
    try:
        await deliver(current_app.config, message)
    except (aiosmtplib.SMTPException, OSError) as error:  # the runner logs it and retries
        raise MailNotSent(f"sending {message['Subject']!r} to {message['To']} failed: {error}") from error
