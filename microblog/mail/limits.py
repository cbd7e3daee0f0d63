"""How often one kind of mail may go out (an error report of one kind, a new-follower notice for one
pair of people), kept in the database so that every worker and every host agrees.

`claim` takes the right to send (or counts one more that was held back) atomically: the first
statement is a write, so two workers never both see "due". Claims commit on their own, before the
message is sent, so a claim is never held while an SMTP server is slow.
"""
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
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
        row = await _count_one_more(db, key, now, job_id)
        if row == "inserted":
            await db.execute(delete(MailLimit).where(MailLimit.last_sent < now - FORGET_AFTER))
            return 0
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


async def _count_one_more(db: AsyncSession, key: str, now, job_id: int | None):
    """One more held back for `key` (the row stays locked): (last_sent, held_back, job_id), or
    None if there is no row yet; on MariaDB "inserted" when this call made the row."""
    count = update(MailLimit).where(MailLimit.key == key).values(held_back=MailLimit.held_back + 1)
    count = count.execution_options(synchronize_session=False)
    if db.bind.dialect.name == "mysql":
        # No UPDATE … RETURNING; and not INSERT IGNORE then UPDATE: the shared lock INSERT IGNORE
        # takes on a row it finds deadlocks with another worker's. One statement takes the row's
        # write lock whether it makes it or counts one more on it.
        await db.execute(mysql_insert(MailLimit).values(key=key, last_sent=now, held_back=0, job_id=job_id)
                         .on_duplicate_key_update(held_back=MailLimit.held_back + 1))
        row = (await db.execute(select(MailLimit.last_sent, MailLimit.held_back, MailLimit.job_id)
                                .where(MailLimit.key == key))).first()
        return "inserted" if (row.last_sent, row.held_back) == (now, 0) else row
    return (await db.execute(count.returning(MailLimit.last_sent, MailLimit.held_back, MailLimit.job_id))).first()
