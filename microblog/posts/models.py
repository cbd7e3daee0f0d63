"""Posts: publishing, deleting, and the lists they appear in."""
from datetime import datetime
from typing import Callable

from sqlalchemy import ForeignKey, Index, Select, String, delete, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.models import User
from ..db import Base, UTCDateTime, insert_or_ignore, utcnow
from ..follows.models import followed_ids
from .language import detect_language

POST_MAX = 140

# What other features do in a post's own transaction when it is published or deleted (search
# queues its indexing job): callbacks taking (db, post_id), registered by those features'
# init_app, so that posts imports none of them.
post_changed: list[Callable[[AsyncSession, int], None]] = []


class Post(Base):
    __tablename__ = "post"
    __table_args__ = (
        Index("ix_post_user_id_timestamp_id", "user_id", "timestamp", "id"),
        Index("ix_post_timestamp_id", "timestamp", "id"),
        # One rendered post form makes one post, however often it is sent (a double click).
        Index("ix_post_user_id_submission", "user_id", "submission", unique=True),
        {"sqlite_autoincrement": True},  # never reuse a deleted post's id (old links, cursors)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(POST_MAX))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8), default="")
    submission: Mapped[str | None] = mapped_column(String(32))  # the form's one-time token

    author: Mapped[User] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<Post {self.id} by {self.user_id}>"

    @classmethod
    async def publish(cls, db: AsyncSession, author: User, body: str, submission: str | None = None) -> "Post":
        """A new post by `author` (staged), with its language detected. A form sent again with the
        same `submission` token (a double click, a retry after a cut connection) makes no second
        post: the answer is the post it made the first time."""
        post_id = await db.scalar(insert_or_ignore(db, cls).values(
            body=body, user_id=author.id, timestamp=utcnow(), submission=submission or None,
            language=await detect_language(body)).returning(cls.id))
        if post_id is None:
            post = await db.scalar(select(cls).where(cls.user_id == author.id, cls.submission == submission))
        else:
            post = await db.get_one(cls, post_id)
            for callback in post_changed:
                callback(db, post_id)
        set_committed_value(post, "author", author)
        return post

    def deletable_by(self, user: User | None) -> bool:
        """Only the author may delete a post."""
        return user is not None and self.user_id == user.id

    async def delete_by(self, db: AsyncSession, user: User) -> None:
        """Delete (staged); deleting a post twice at once is one deletion, quietly."""
        if not self.deletable_by(user):
            raise PermissionError("only the author may delete a post")
        await db.execute(delete(Post).where(Post.id == self.id))
        for callback in post_changed:
            callback(db, self.id)

    # --- lists (newest first is paging's job: these have no ORDER BY) ----------------------

    @staticmethod
    def explore() -> Select:
        return select(Post).options(joinedload(Post.author, innerjoin=True))

    @staticmethod
    def timeline(user: User) -> Select:
        """Posts of followed users plus one's own: one query served by ix_post_user_id_timestamp_id."""
        authors = followed_ids(user).union_all(select(literal(user.id)))
        return select(Post).where(Post.user_id.in_(authors)).options(joinedload(Post.author, innerjoin=True))

    @staticmethod
    def by_author(user: User) -> Select:
        return select(Post).where(Post.user_id == user.id).options(joinedload(Post.author, innerjoin=True))
