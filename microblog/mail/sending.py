"""The "mail.send" job: a message rendered when it was queued (an error report),
sent by the job runner."""
import aiosmtplib
from quart import current_app
from sqlalchemy.ext.asyncio import AsyncSession

from .. import jobs
from .messages import MailNotSent, MailRefused, build_message, deliver, describe_failure, mail_domain, new_message_id

SEND = "mail.send"


def send_email(db: AsyncSession, subject: str, recipients: list[str], text: str,
               html: str | None = None) -> None:
    """Queue a message in `db`'s transaction (the request's, usually): it goes out if and only if
    that transaction commits."""
    jobs.enqueue(db, SEND, {"subject": str(subject), "recipients": recipients, "text": text, "html": html,
                            "sender": current_app.config["MAIL_DEFAULT_SENDER"],
                            "message_id": new_message_id()})


async def send(message) -> None:
    """Deliver `message` now, or raise MailNotSent (the job runner retries it later), or
    MailRefused when the server refused it for good: a 5xx answer for its recipients or for the
    message itself (a 4xx, a timeout, a refused sender or log-in, which the operator can mend,
    are retried)."""
    try:
        await deliver(current_app.config, message)
    except (aiosmtplib.SMTPException, OSError) as error:
        failure = MailRefused if refused_for_good(error) else MailNotSent
        reason = describe_failure(error, current_app.config)
        raise failure(f"sending {message['Subject']!r} to {message['To']} failed: {reason}") from error


def job_message_id(job: jobs.Job) -> str:
    """The Message-ID of the mail `job` sends, the same on every attempt (a retry of a send whose
    answer was lost is a duplicate mail systems drop): the one chosen when it was queued, else
    one made from the job itself."""
    return job.payload.get("message_id") or \
        f"<microblog.job{job.id}.{job.created_at:%Y%m%d%H%M%S%f}@{mail_domain(current_app.config)}>"


def refused_for_good(error: BaseException) -> bool:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):  # every recipient refused
        return bool(error.recipients) and all(refusal.code >= 500 for refusal in error.recipients)
    return isinstance(error, (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)) and error.code >= 500


# One message at a time per runner: a mail server that does not answer holds one of its tasks, not all.
@jobs.handler(SEND, concurrency=1)
async def _send(job: jobs.Job) -> None:
    payload = job.payload
    await send(build_message(payload["subject"], payload["recipients"], payload["text"], payload["html"],
                             sender=payload["sender"], message_id=job_message_id(job)))
