"""What federation keeps beside the accounts: each actor's key pair, and for people from
elsewhere how to reach them (RemoteActor), and the site's own key. People from elsewhere are `User` rows with a `domain`,
so posts, follows and timelines need nothing new to point at them."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow

URL_MAX = 512  # ids and inboxes elsewhere; longer ones are refused


class ActorKey(Base):
    """A person's RSA key pair: ours sign what we send (the private half never leaves the
    database), theirs check what they send."""
    __tablename__ = "actor_key"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    private_key_pem: Mapped[str | None] = mapped_column(Text)  # ours only


class InstanceKey(Base):
    """The site's own key pair, the instance actor's (/actor): it signs the fetches no person
    makes (checking a stranger's key), which servers in "authorized fetch" mode require."""
    __tablename__ = "instance_key"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # always 1
    public_key_pem: Mapped[str] = mapped_column(Text)
    private_key_pem: Mapped[str] = mapped_column(Text)


class RemoteActor(Base):
    """A person from elsewhere as their server describes them (their actor document)."""
    __tablename__ = "remote_actor"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(URL_MAX), unique=True)
    key_id: Mapped[str] = mapped_column(String(URL_MAX), unique=True)
    inbox: Mapped[str] = mapped_column(String(URL_MAX))
    shared_inbox: Mapped[str | None] = mapped_column(String(URL_MAX))
    profile_url: Mapped[str | None] = mapped_column(String(URL_MAX))
    icon_url: Mapped[str | None] = mapped_column(String(URL_MAX))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # As their server reports them (its collections' totalItems), when it does.
    followers_count: Mapped[int | None] = mapped_column()
    following_count: Mapped[int | None] = mapped_column()
    summary: Mapped[str | None] = mapped_column(Text)  # their about-me: sanitized HTML


class SentFollow(Base):
    """The Follow sent for someone here to someone elsewhere, while it stands (asked or
    accepted): its id is what their Accept or Reject names, and what an Undo takes back."""
    __tablename__ = "sent_follow"

    follower_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    followed_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(URL_MAX), unique=True)


class FailedLookup(Base):
    """A look-up elsewhere that failed, and why, remembered for a while: asking again at once
    would fail the same way, and costs the other server a request."""
    __tablename__ = "failed_lookup"

    query: Mapped[str] = mapped_column(String(64), primary_key=True)  # a digest of what was looked up
    reason: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime] = mapped_column(UTCDateTime())


class RemoteHost(Base):
    """How delivering to another server has gone lately: a server that failed on
    UNAVAILABLE_AFTER_DAYS different days (as Mastodon counts) is skipped, but for what a Follow
    needs, until it answers or sends us something again."""
    __tablename__ = "remote_host"

    host: Mapped[str] = mapped_column(String(253), primary_key=True)
    failure_days: Mapped[int] = mapped_column(default=0)
    last_failure: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unavailable: Mapped[bool] = mapped_column(default=False)


class DomainBlock(Base):
    """A server the operator blocked for everyone (`quart federation block-domain`), with the
    servers under it (blocking example.com blocks a.example.com, as Mastodon does): nothing is
    taken from it or sent to it, and its people are hidden here (User.suspended)."""
    __tablename__ = "domain_block"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)  # a host, maybe with a port
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
