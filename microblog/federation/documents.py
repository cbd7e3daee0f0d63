"""The JSON other servers read: WebFinger, NodeInfo, actors (people here, and the site itself),
their collections, and posts as Notes. Each id is an address that never changes: `/users/<id>`
for a person (never the nickname: a rename keeps every follower elsewhere), `/post/<id>` for a
post (its page, which answers ActivityStreams to those who ask)."""
from urllib.parse import urlsplit

from markupsafe import Markup
from quart import current_app
from sqlalchemy.ext.asyncio import AsyncSession

from ..accounts.models import User
from ..follows.models import follow_counts
from ..posts.text import linkify
from ..web import external_url
from .keys import key_of

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
ACTIVITY_JSON = "application/activity+json"
JRD_JSON = "application/jrd+json"


def local_domain() -> str:
    """This site's host as handles show it (alice@<this>): BASE_URL's, with its port if any."""
    return urlsplit(external_url("posts.index")).netloc


def actor_id(user_id: int) -> str:
    return external_url("federation.actor", user_id=user_id)


def local_user_id(url: str | None) -> int | None:
    """The id of the person here whose actor id `url` is (`/users/<id>`), else None."""
    prefix = actor_id(0)[:-1]
    number = url[len(prefix):] if url and url.startswith(prefix) else ""
    return int(number) if number.isdigit() else None


def instance_actor_id() -> str:
    return external_url("federation.instance_actor")


def key_id(owner_id: str) -> str:
    return f"{owner_id}#main-key"


def person(user: User, public_key_pem: str, followers: int, following: int) -> dict:
    """A person here as an ActivityPub Person."""
    me = actor_id(user.id)
    return {
        "@context": CONTEXT,
        "id": me, "type": "Person",
        "preferredUsername": user.nickname, "name": user.name,
        "summary": note_html(user.about_me or ""),
        "url": external_url("profiles.user", nickname=user.nickname),
        "inbox": external_url("federation_inbox.inbox", user_id=user.id),
        "outbox": external_url("federation.outbox", user_id=user.id),
        "followers": external_url("federation.followers", user_id=user.id),
        "following": external_url("federation.following", user_id=user.id),
        "endpoints": {"sharedInbox": external_url("federation_inbox.inbox")},
        "manuallyApprovesFollowers": False, "discoverable": True,
        "publicKey": {"id": key_id(me), "owner": me, "publicKeyPem": public_key_pem},
        "icon": {"type": "Image", "mediaType": "image/png",
                 "url": external_url("avatars.identicon_as_png", user_id=user.id)},
    }


async def person_of(db: AsyncSession, user: User) -> dict:
    """`person` with what it needs read: the key pair (made if need be) and the follow counts."""
    key = await key_of(db, user.id)
    return person(user, key.public_key_pem, *await follow_counts(db, user))


def application(public_key_pem: str) -> dict:
    """The site itself (the instance actor): it signs the fetches no person makes."""
    me = instance_actor_id()
    domain = local_domain()
    return {
        "@context": CONTEXT,
        "id": me, "type": "Application", "preferredUsername": domain, "name": domain,
        "inbox": external_url("federation_inbox.inbox"), "outbox": external_url("federation.instance_outbox"),
        "url": external_url("posts.index"), "manuallyApprovesFollowers": True,
        "publicKey": {"id": key_id(me), "owner": me, "publicKeyPem": public_key_pem},
    }


def collection(collection_id: str, total: int, first: str | None = None) -> dict:
    document = {"@context": CONTEXT[0], "id": collection_id, "type": "OrderedCollection", "totalItems": total}
    if first is not None:
        document["first"] = first
    return document


def note_html(text: str) -> str:
    """Plain text as the safe HTML a Note carries: escaped, web addresses made links, paragraphs
    and line breaks kept."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(Markup("<p>{}</p>").format(Markup("<br>").join(linkify(line) for line in p.split("\n")))
                   for p in paragraphs)


def note(post, author: User) -> dict:
    """A public post here as a Note, addressed to everyone and copied to its author's followers."""
    me = actor_id(author.id)
    url = external_url("posts.show", post_id=post.id)
    document = {
        "id": url, "type": "Note", "attributedTo": me, "url": url,
        "content": note_html(post.body),
        "published": post.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": [AS_PUBLIC], "cc": [external_url("federation.followers", user_id=author.id)],
    }
    if post.language:
        document["contentMap"] = {post.language: document["content"]}
    return document


def create(post, author: User) -> dict:
    """The activity that delivers a new post (its id: the post's, with #create)."""
    obj = note(post, author)
    return {"@context": CONTEXT[0], "id": obj["id"] + "#create", "type": "Create", "actor": obj["attributedTo"],
            "published": obj["published"], "to": obj["to"], "cc": obj["cc"], "object": obj}


def webfinger(user: User) -> dict:
    return {
        "subject": f"acct:{user.nickname}@{local_domain()}",
        "aliases": [actor_id(user.id), external_url("profiles.user", nickname=user.nickname)],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor_id(user.id)},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
             "href": external_url("profiles.user", nickname=user.nickname)},
        ],
    }


def nodeinfo(version: str, users: int, active_month: int, active_half_year: int, posts: int) -> dict:
    return {
        "version": version,
        "software": {"name": "microblog", "version": current_app.config.get("VERSION", "0.1.0")},
        "protocols": ["activitypub"], "services": {"inbound": [], "outbound": []},
        "openRegistrations": True,
        "usage": {"users": {"total": users, "activeMonth": active_month, "activeHalfyear": active_half_year},
                  "localPosts": posts},
        "metadata": {"nodeName": local_domain()},
    }
