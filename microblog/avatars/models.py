"""A person's own picture, kept by the site (for now: the picture of someone from elsewhere,
copied from their server by federation/pictures.py), so a reader's browser asks only this site
for images and the Content-Security-Policy stays `img-src 'self'`."""
import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, delete
from sqlalchemy.dialects.mysql import MEDIUMBLOB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ..accounts.models import User
from ..db import Base, UTCDateTime, utcnow

PICTURE_MAX = 1024 * 1024  # bytes; Mastodon serves avatars of 400×400 px, a few dozen KB
# What a picture may be, told by its first bytes (never by what the other server says it is).
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
              (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


class Picture(Base):
    __tablename__ = "picture"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))  # also User.picture: in its URL
    content_type: Mapped[str] = mapped_column(String(16))
    # MariaDB's BLOB holds 64 KB: MEDIUMBLOB there (16 MB).
    data: Mapped[bytes] = mapped_column(LargeBinary().with_variant(MEDIUMBLOB(), "mysql", "mariadb"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


def picture_type(data: bytes) -> str | None:
    """The image type of `data` (PNG, JPEG, GIF or WebP), else None: nothing else is shown."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)


async def keep_picture(db: AsyncSession, user: User, data: bytes) -> bool:
    """`data` as `user`'s picture (replacing theirs), if it is an image within PICTURE_MAX."""
    kind = picture_type(data)
    if kind is None or len(data) > PICTURE_MAX:
        return False
    digest = hashlib.sha256(data).hexdigest()[:32]
    if user.picture == digest:
        return True
    picture = await db.get(Picture, user.id)
    if picture is None:
        picture = Picture(user_id=user.id)
        db.add(picture)
    picture.digest, picture.content_type, picture.data, picture.saved_at = digest, kind, data, utcnow()
    user.picture = digest
    return True


async def drop_picture(db: AsyncSession, user: User) -> None:
    """`user` is shown by their identicon again."""
    await db.execute(delete(Picture).where(Picture.user_id == user.id))
    user.picture = None
