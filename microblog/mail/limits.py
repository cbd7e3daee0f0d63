"""How often one kind of mail may go out (an error report of one kind, a new-follower notice for one
pair of people), kept in the database so that every worker and every host agrees.

`claim` takes the right to send (or counts one more that was held back) atomically: the first
statement is a write, so two workers never both see "due". Claims commit on their own, before the
message is sent, so a claim is never held while an SMTP server is slow.
"""
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, insert_or_ignore, utcnow

# Longer than any interval a claim is made with: older rows say nothing any more.
FORGET_AFTER = timedelta(days=2)


class MailLimit(Base):
    __tablename__ = "mail_limit"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_sent: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    held_back: Mapped[int] = mapped_column(Integer, default=0)  # not sent since last_sent
    job_id: Mapped[int | None] = mapped_column(Integer)  # the job sending under the last claim


async def claim(db: AsyncSession, key: str, interval: timedelta, job_id: int | None = None) -> int | None:
    """The right to send one message of kind `key` now (staged: commit it before sending): the
    number of messages of that kind held back since the last one, or None if one went out less
    than `interval` ago (this one is then counted as held back). The job that made the last claim
    may always claim again: it is retrying a message that may not have gone out."""
    now = utcnow()
    for _attempt in range(2):
        row = (await db.execute(
            update(MailLimit).where(MailLimit.key == key)
            .values(held_back=MailLimit.held_back + 1)
            .returning(MailLimit.last_sent, MailLimit.held_back, MailLimit.job_id)
            .execution_options(synchronize_session=False))).first()
        if row is None:
            inserted = await db.execute(insert_or_ignore(db, MailLimit).values(
                key=key, last_sent=now, held_back=0, job_id=job_id))
            if inserted.rowcount == 1:
                await db.execute(delete(MailLimit).where(MailLimit.last_sent < now - FORGET_AFTER))
                return 0
            continue  # another worker claimed it a moment ago: count this one against theirs
        last_sent, held_back, holder = row
        if last_sent <= now - interval or (job_id is not None and holder == job_id):
            await db.execute(update(MailLimit).where(MailLimit.key == key)
                             .values(last_sent=now, held_back=0, job_id=job_id)
                             .execution_options(synchronize_session=False))
            return max(held_back - 1, 0)
        return None
    return None
