"""What translation keeps in the database: each post's translations (one per target language, so
a popular post costs the site one call per language), and each reader's allowance per hour (so the
site is no free translation proxy; in the database, so every worker and host counts the same)."""
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, case, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, insert_or_ignore, savepoint, separate_transaction, utcnow

WINDOW = timedelta(hours=1)


class PostTranslation(Base):
    __tablename__ = "post_translation"

    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)  # primary subtag: "es"
    text: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(40))  # who translated it, named under the text
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @classmethod
    async def find(cls, db: AsyncSession, post_id: int, language: str) -> "PostTranslation | None":
        return await db.scalar(select(cls).where(cls.post_id == post_id, cls.language == language))

    @classmethod
    async def keep(cls, db: AsyncSession, post_id: int, language: str, text: str, provider: str) -> None:
        """Store a translation (staged); one stored meanwhile by another reader stays, and a post
        deleted while the provider was translating it is simply not kept, quietly."""
        try:
            async with savepoint(db):
                await db.execute(insert_or_ignore(db, cls).values(
                    post_id=post_id, language=language, text=text, provider=provider, created=utcnow()))
        except IntegrityError:  # ON CONFLICT covers the key, not the foreign key
            pass


class TranslationAllowance(Base):
    """How many translations a reader asked of the provider in the hour from `window_start`."""

    __tablename__ = "translation_allowance"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    used: Mapped[int] = mapped_column(Integer, default=0)

    @classmethod
    async def take(cls, user_id: int, per_hour: int) -> int:
        """Use one of the reader's translations for this hour (committed at once, so two requests
        in parallel cannot both take the last one): 0 if it may go ahead, else seconds to wait."""
        now = utcnow()
        async with separate_transaction() as db:
            await db.execute(insert_or_ignore(db, cls).values(user_id=user_id, window_start=now, used=0))
            expired = cls.window_start <= now - WINDOW
            taken = await db.execute(
                update(cls).where(cls.user_id == user_id, or_(expired, cls.used < per_hour)).values(
                    used=case((expired, 1), else_=cls.used + 1),
                    window_start=case((expired, literal(now, UTCDateTime())), else_=cls.window_start)))
            if taken.rowcount == 1:
                return 0
            window_start = await db.scalar(select(cls.window_start).where(cls.user_id == user_id))
        return max(1, int((window_start + WINDOW - now).total_seconds()) + 1)

    @classmethod
    async def give_back(cls, user_id: int) -> None:
        """The translation failed (the provider's trouble, not the reader's): it is not counted."""
        async with separate_transaction() as db:
            await db.execute(update(cls).where(cls.user_id == user_id, cls.used > 0).values(used=cls.used - 1))
