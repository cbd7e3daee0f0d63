"""Posts: publishing, deleting, and the lists they appear in."""
import hashlib
from datetime import datetime
from functools import cache, lru_cache

from quart import current_app, has_app_context
from sqlalchemy import (ForeignKey, Index, Select, String, Subquery, Text, bindparam, delete, func, literal, or_,
                        select)
from sqlalchemy.dialects.mysql import MEDIUMTEXT
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from .. import events
from ..accounts.models import LocalUser, User
from ..db import Base, UTCDateTime, insert_or_ignore, utcnow
from ..follows.models import followed_ids, followers
from .language import detect_language

# Post.visibility: PUBLIC, or UNLISTED (Mastodon's "quiet public": anyone may read it, on the
# author's profile too, but it is not searched), or FOLLOWERS (their followers here, in their home
# timelines only).
PUBLIC, UNLISTED, FOLLOWERS = "public", "unlisted", "followers"
SHOWN_TO_ANYONE = (PUBLIC, UNLISTED)
URL_MAX = 512  # a post's id and address elsewhere (as federation/models.URL_MAX); longer ones are refused
# On MariaDB TEXT holds 64 KB: a post from elsewhere may be longer (up to federation/notes.CONTENT_MAX).
LONG_TEXT = Text().with_variant(MEDIUMTEXT(), "mysql", "mariadb")

class Post(Base):
    __tablename__ = "post"
    __table_args__ = (
        Index("ix_post_user_id_timestamp_id", "user_id", "timestamp", "id"),
        Index("ix_post_timestamp_id", "timestamp", "id"),
        # One rendered post form makes one post, however often it is sent (a double click).
        Index("ix_post_user_id_submission", "user_id", "submission", unique=True),
        # A post from elsewhere is stored once, however often (or however many workers at once) it arrives.
        Index("ix_post_ap_id", "ap_id", unique=True),
        {"sqlite_autoincrement": True},  # never reuse a deleted post's id (old links, cursors)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The words, as plain text, of every post: search, language detection and translation read it.
    # As long as the form allows (POST_MAX_CHARS); from elsewhere, the text of its HTML, longer.
    body: Mapped[str] = mapped_column(LONG_TEXT)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8), default="")
    submission: Mapped[str | None] = mapped_column(String(32))  # the form's one-time token
    # A post from elsewhere (federation/notes.py): its ActivityPub id (NULL: a post written here),
    # its HTML made safe (federation/html.py; cards show it instead of the linkified body), the
    # address of its page there, and who may read it: PUBLIC, or FOLLOWERS (its author's followers
    # here, in their home timelines only). A post written here is PUBLIC.
    ap_id: Mapped[str | None] = mapped_column(String(URL_MAX))
    html: Mapped[str | None] = mapped_column(LONG_TEXT)
    url: Mapped[str | None] = mapped_column(String(URL_MAX))
    visibility: Mapped[str] = mapped_column(String(16), default=PUBLIC, server_default=PUBLIC)

    author: Mapped[User] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<Post {self.id} by {self.user_id}>"

    @classmethod
    async def publish(cls, db: AsyncSession, author: User, body: str, submission: str | None = None) -> "Post":
        """A new post by `author` (staged), with its language detected. A form sent again with the
        same `submission` token and text (a double click, a retry after a cut connection) makes no
        second post: the answer is the post it made the first time. Sent again with another text
        (an old form the back button restored), it is a new post, made once however often sent."""
        post_id = await db.scalar(insert_or_ignore(db, cls).values(
            body=body, user_id=author.id, timestamp=utcnow(), submission=submission or None,
            language=await detect_language(body)).returning(cls.id))
        if post_id is None:
            post = await db.scalar(select(cls).where(cls.user_id == author.id, cls.submission == submission))
            if post is None or post.body != body:
                return await cls.publish(db, author, body, _resent(submission, body))
        else:
            post = await db.get_one(cls, post_id)
            await events.post_published.send(db, post_id=post_id, author_id=author.id)
        set_committed_value(post, "author", author)
        return post

    @classmethod
    async def receive(cls, db: AsyncSession, author: User, ap_id: str, html: str, body: str, url: str | None,
                      visibility: str, published: datetime, language: str) -> int | None:
        """A post from elsewhere (staged; federation/notes.py checked it): its id here, or None when
        it is here already (a copy delivered again, or the same one handled by two workers at
        once inserts nothing)."""
        post_id = await db.scalar(insert_or_ignore(db, cls).values(
            ap_id=ap_id, html=html, body=body, url=url, visibility=visibility, user_id=author.id,
            timestamp=published, language=language).returning(cls.id))
        if post_id is not None:
            await events.post_published.send(db, post_id=post_id, author_id=author.id)
        return post_id

    async def revise(self, db: AsyncSession, html: str, body: str, language: str) -> None:
        """New words for a post from elsewhere (staged), as its author edited it there."""
        self.html, self.body, self.language = html, body, language
        await db.flush()
        await events.post_updated.send(db, post_id=self.id, author_id=self.user_id)

    @property
    def from_elsewhere(self) -> bool:
        """A post that came from another server (federation/notes.py), not written here."""
        return self.ap_id is not None

    async def readable_by(self, db: AsyncSession, reader: User | None) -> bool:
        """Whether `reader` (None: a visitor) may see the post on its own page: a public or
        unlisted post, anyone; a followers-only one, its author's followers only (and its author)."""
        if self.visibility in SHOWN_TO_ANYONE:
            return True
        if reader is None:
            return False
        return reader.id == self.user_id or await db.scalar(select(followers.c.follower_id).where(
            followers.c.follower_id == reader.id, followers.c.followed_id == self.user_id)) is not None

    def deletable_by(self, user: User | None) -> bool:
        """Only the author may delete a post."""
        return user is not None and self.user_id == user.id

    async def delete_by(self, db: AsyncSession, user: User) -> None:
        """Delete (staged); deleting a post twice at once is one deletion, quietly."""
        if not self.deletable_by(user):
            raise PermissionError("only the author may delete a post")
        await db.execute(delete(Post).where(Post.id == self.id))
        await events.post_deleted.send(db, post_id=self.id, author_id=self.user_id)

    # --- lists (newest first is paging's job: these have no ORDER BY) ----------------------
    # A statement is built once per reader and kept (a Select never changes): building one costs
    # more than SQLAlchemy's compiled-statement cache saves.

    @staticmethod
    def explore(reader: User | None = None) -> Select:
        """This site's own posts (posts from elsewhere show to their authors' followers only),
        but those `reader` chose not to see (hidden_from)."""
        hiding = _hiding(reader)
        return _explore(_gravatars()) if hiding is None else _explore_for(hiding, _gravatars())

    @staticmethod
    def hidden_from(reader: User | None) -> tuple:
        """Conditions that leave out the posts `reader` chose not to see (events.hidden_posts:
        blocks/), for lists of others' posts; none (no cost) for a reader who chose nothing.
        The home timeline needs none: it shows only whom one follows, and no one follows
        whom they block (blocks/models.py)."""
        hiding = _hiding(reader)
        return () if hiding is None else _hidden_for(hiding)

    @staticmethod
    def timeline(user: User, newest_first: bool = False) -> Select:
        """The ids of the posts of followed users plus one's own (load them with `with_authors`:
        a deferred join), in one of two shapes of the same query: by author (each followed user's
        posts from ix_post_user_id_timestamp_id, then sorted: for most readers), or `newest_first`:
        everyone's posts down ix_post_timestamp_id, kept if followed (for someone following a large
        share of the site, whose page fills after a few rows)."""
        return _timeline(user.id, newest_first)

    @classmethod
    async def timeline_for(cls, db: AsyncSession, user: User) -> Select:
        """`user`'s timeline in the shape that reads fewer rows: the newest-first scan reads about
        26 × users / following rows, the by-author sort following × posts / users; the first wins
        when following² × posts > ~440 × users² (measured, 200,000 posts of 10,000 users: following
        100, by author 0.3 ms on SQLite, 1.2 on PostgreSQL, newest first 7.3 and 1.8; following
        5,000, by author 8 and 41 ms, newest first 0.1 and 2.0). One cheap statement of sizes
        decides: neither database can tell from its statistics alone."""
        following, users, posts = (await db.execute(_timeline_sizes(user.id))).one()
        return cls.timeline(user, newest_first=bool(users) and following ** 2 * (posts or 0) > 440 * users ** 2)

    @staticmethod
    def with_authors(ids: Subquery) -> Select:
        """The posts whose ids are in `ids`, with their authors (`keyset_page`'s `load`)."""
        return select(Post).join(ids, Post.id == ids.c.id).options(_with_author(_gravatars()))

    @staticmethod
    def by_id(post_id: int) -> Select:
        """The post, with its author as cards show them."""
        return select(Post).where(Post.id == post_id).options(_with_author(_gravatars()))

    @staticmethod
    def by_author(user: User, reader: User | None = None) -> Select:
        """A profile's posts: all of them for someone here; for someone from elsewhere only the
        public ones (a followers-only post shows in its readers' home timelines, nowhere else);
        none for a `reader` who blocks them or hides their server (hidden_from)."""
        return _by_author(user.id, _gravatars(), user.is_local, _hiding(reader))

    @staticmethod
    async def count_by(db: AsyncSession, author: User) -> int:
        """How many posts of `author` a profile shows (for someone here, counted in
        ix_post_user_id_timestamp_id alone)."""
        return await db.scalar(_count_by_author(author.is_local), {"user_id": author.id})


def _resent(submission: str, body: str) -> str:
    """The token of a form sent again with another text: its own, the same for the same text."""
    return hashlib.sha256(f"{submission}\0{body}".encode()).hexdigest()[:32]


def _gravatars() -> bool:
    """Whether pictures come from Gravatar (AVATARS=gravatar), drawn from each author's e-mail."""
    return has_app_context() and current_app.config.get("AVATARS") == "gravatar"


@cache
def _with_author(with_email: bool):
    """A post's author, with what a post shows of them (no password hash, no settings): their
    e-mail only for a Gravatar (loading each author's local part costs a page of 25 posts ~10%)."""
    author = joinedload(Post.author, innerjoin=True).load_only(
        User.id, User.nickname, User.domain, User.display_name, User.picture, User.suspended, raiseload=True)
    if with_email:
        return author.joinedload(User.local).load_only(LocalUser.email, raiseload=True)
    return author.raiseload(User.local)


@cache
def _explore(with_email: bool) -> Select:
    return select(Post).where(Post.ap_id.is_(None)).options(_with_author(with_email))


def _hiding(reader: User | None) -> int | None:
    """The id of a reader who chose not to see some posts (their has_blocks, loaded with their
    session), else None: lists for them carry hidden_from's conditions."""
    return reader.id if reader is not None and reader.has_blocks else None


@lru_cache(maxsize=1024)
def _hidden_for(reader_id: int) -> tuple:
    return tuple(condition for hide in events.hidden_posts.ask() if (condition := hide(reader_id)) is not None)


@lru_cache(maxsize=1024)
def _explore_for(reader_id: int, with_email: bool) -> Select:
    return _explore(with_email).where(*_hidden_for(reader_id))


@lru_cache(maxsize=1024)
def _timeline(user_id: int, newest_first: bool) -> Select:
    if newest_first:
        followed = (select(followers.c.followed_id)
                    .where(followers.c.follower_id == user_id, followers.c.followed_id == Post.user_id).exists())
        condition = or_(Post.user_id == user_id, followed)
    else:
        condition = Post.user_id.in_(followed_ids(user_id).union_all(select(literal(user_id))))
    return select(Post.id).where(condition)


@lru_cache(maxsize=1024)
def _timeline_sizes(user_id: int) -> Select:
    """(how many `user_id` follows, the highest user id, the highest post id): cheap sizes."""
    return select(select(func.count()).select_from(followed_ids(user_id).subquery()).scalar_subquery(),
                  select(func.max(User.id)).scalar_subquery(), select(func.max(Post.id)).scalar_subquery())


def _shown_on_profiles(query: Select, local: bool) -> Select:
    return query if local else query.where(Post.visibility.in_(SHOWN_TO_ANYONE))


@lru_cache(maxsize=1024)
def _by_author(user_id: int, with_email: bool, local: bool, hiding: int | None) -> Select:
    query = _shown_on_profiles(select(Post).where(Post.user_id == user_id).options(_with_author(with_email)), local)
    return query if hiding is None else query.where(*_hidden_for(hiding))


@cache
def _count_by_author(local: bool) -> Select:
    return _shown_on_profiles(select(func.count()).select_from(Post).where(Post.user_id == bindparam("user_id")), local)
