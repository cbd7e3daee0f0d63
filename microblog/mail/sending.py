"""The "mail.send" job: a message rendered when it was queued (the reset mail, an error report),
sent by the job runner."""
import aiosmtplib
from quart import current_app
from sqlalchemy.ext.asyncio import AsyncSession

from .. import jobs
from .messages import MailNotSent, build_message, deliver, mail_domain, new_message_id

SEND = "mail.send"


def send_email(db: AsyncSession, subject: str, recipients: list[str], text: str,
               html: str | None = None) -> None:
    """Queue a message in `db`'s transaction (the request's, usually): it goes out if and only if
    that transaction commits."""
    jobs.enqueue(db, SEND, {"subject": str(subject), "recipients": recipients, "text": text, "html": html,
                            "sender": current_app.config["MAIL_DEFAULT_SENDER"],
                            "message_id": new_message_id()})


async def send(message) -> None:
    """Deliver `message` now, or raise MailNotSent (the job runner retries it later)."""
    try:
        await deliver(current_app.config, message)
    except (aiosmtplib.SMTPException, OSError) as error:
        raise MailNotSent(f"sending {message['Subject']!r} to {message['To']} failed: {error}") from error


def job_message_id(job: jobs.Job) -> str:
    """The Message-ID of the mail `job` sends, the same on every attempt (a retry of a send whose
    answer was lost is a duplicate mail systems drop): the one chosen when it was queued, else
    one made from the job itself."""
    return job.payload.get("message_id") or \
        f"<microblog.job{job.id}.{job.created_at:%Y%m%d%H%M%S%f}@{mail_domain(current_app.config)}>"


@jobs.handler(SEND)
async def _send(job: jobs.Job) -> None:
    payload = job.payload
    await send(build_message(payload["subject"], payload["recipients"], payload["text"], payload["html"],
                             sender=payload["sender"], message_id=job_message_id(job)))
