"""Where other servers find people here: WebFinger, host-meta and NodeInfo (at the host's root),
actors and their collections, and the ActivityStreams side of profile and post pages."""
import re
from datetime import timedelta

from quart import Blueprint, Response, abort, current_app, json, redirect, request
from sqlalchemy import func, select

from ..accounts.models import LocalUser, User
from ..db import get_session, utcnow
from ..follows.models import follow_counts
from ..posts.models import Post
from ..web import external_url
from . import documents
from .documents import ACTIVITY_JSON, JRD_JSON
from .keys import instance_key

bp = Blueprint("federation", __name__)
OUTBOX_PAGE = 20
_AS_PROFILE = re.compile(r'application/ld\+json\s*;\s*profile\s*=\s*"?https://www\.w3\.org/ns/activitystreams"?')


@bp.before_request
async def _only_when_on() -> None:
    if not current_app.config["FEDERATION"]:
        abort(404)


def wants_activity_json() -> bool:
    """Whether the request asks for ActivityStreams (as servers do) rather than a page."""
    accept = request.headers.get("Accept", "")
    return ACTIVITY_JSON in accept or bool(_AS_PROFILE.search(accept))


def activity_json(document: dict, status: int = 200, content_type: str = ACTIVITY_JSON) -> Response:
    response = Response(json.dumps(document), status=status, content_type=content_type)
    response.vary.add("Accept")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def local_user(user_id: int) -> User:
    user = await get_session().get(User, user_id)
    if user is None or not user.is_local:
        abort(404)
    return user


# --- discovery, at the host's root -------------------------------------------------------------

@bp.route("/.well-known/webfinger")
async def webfinger():
    """acct:nick@host, or an actor's or profile's address, → the actor."""
    resource = request.args.get("resource", "")
    user = await _resource_owner(resource[:600])
    if user is None:
        abort(404)
    response = activity_json(documents.webfinger(user), content_type=JRD_JSON)
    response.cache_control.public, response.cache_control.max_age = True, 3 * 24 * 3600
    return response


async def _resource_owner(resource: str) -> User | None:
    db = get_session()
    if resource.startswith("acct:"):
        nickname, _, host = resource[5:].lstrip("@").rpartition("@")
        if host.lower() != documents.local_domain().lower():
            return None
        return await User.by_nickname(db, nickname)
    if (user_id := documents.local_user_id(resource)) is not None:
        user = await db.get(User, user_id)
        return user if user is not None and user.is_local else None
    profile_prefix = external_url("profiles.user", nickname="x")[:-1]
    if resource.startswith(profile_prefix):
        return await User.by_nickname(db, resource[len(profile_prefix):])
    return None


@bp.route("/.well-known/host-meta")
async def host_meta():
    template = external_url("federation.webfinger") + "?resource={uri}"
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
            f'  <Link rel="lrdd" template="{template}"/>\n</XRD>\n')
    return Response(body, content_type="application/xrd+xml; charset=utf-8")


@bp.route("/.well-known/nodeinfo")
async def nodeinfo_links():
    return activity_json({"links": [
        {"rel": f"http://nodeinfo.diaspora.software/ns/schema/{version}",
         "href": external_url("federation.nodeinfo", version=version)} for version in ("2.0", "2.1")]},
        content_type="application/json")


@bp.route("/nodeinfo/<any('2.0', '2.1'):version>")
async def nodeinfo(version: str):
    db = get_session()
    now = utcnow()
    users = await db.scalar(select(func.count()).select_from(LocalUser))
    month = await db.scalar(select(func.count()).where(LocalUser.last_seen >= now - timedelta(days=30)))
    half_year = await db.scalar(select(func.count()).where(LocalUser.last_seen >= now - timedelta(days=180)))
    posts = await db.scalar(select(func.count()).select_from(Post).join(User, User.id == Post.user_id)
                            .where(User.domain == ""))
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return activity_json(documents.nodeinfo(version, users, month, half_year, posts),
                         content_type=f'application/json; profile="{profile}"')


# --- actors and their collections --------------------------------------------------------------

@bp.route("/users/<int(max=2147483647):user_id>")
async def actor(user_id: int):
    """A person here: their Person for servers, their profile page for people."""
    user = await local_user(user_id)
    if not wants_activity_json():
        response = redirect(external_url("profiles.user", nickname=user.nickname))
        response.vary.add("Accept")
        return response
    return activity_json(await documents.person_of(get_session(), user))


@bp.route("/actor")
async def instance_actor():
    return activity_json(documents.application((await instance_key(get_session())).public_key_pem))


@bp.route("/actor/outbox")
async def instance_outbox():
    return activity_json(documents.collection(external_url("federation.instance_outbox"), 0))


@bp.route("/users/<int(max=2147483647):user_id>/followers")
async def followers(user_id: int):
    """How many follow them (the list itself is theirs to keep, as Mastodon lets people choose)."""
    user = await local_user(user_id)
    count, _ = await follow_counts(get_session(), user)
    return activity_json(documents.collection(external_url("federation.followers", user_id=user_id), count))


@bp.route("/users/<int(max=2147483647):user_id>/following")
async def following(user_id: int):
    user = await local_user(user_id)
    _, count = await follow_counts(get_session(), user)
    return activity_json(documents.collection(external_url("federation.following", user_id=user_id), count))


@bp.route("/users/<int(max=2147483647):user_id>/outbox")
async def outbox(user_id: int):
    """Their public posts as Create activities, newest first, a page at a time (`max_id`)."""
    user = await local_user(user_id)
    db = get_session()
    here = external_url("federation.outbox", user_id=user_id)
    if "page" not in request.args:
        total = await db.scalar(select(func.count()).where(Post.user_id == user_id))
        return activity_json(documents.collection(here, total, first=f"{here}?page=true"))
    posts = select(Post).where(Post.user_id == user_id).order_by(Post.id.desc()).limit(OUTBOX_PAGE)
    max_id = request.args.get("max_id", "")
    if max_id.isdigit():
        posts = posts.where(Post.id < int(max_id))
    page = list(await db.scalars(posts))
    document = {"@context": documents.CONTEXT[0], "id": request.url, "type": "OrderedCollectionPage",
                "partOf": here, "orderedItems": [documents.create(post, user) for post in page]}
    if len(page) == OUTBOX_PAGE:
        document["next"] = f"{here}?page=true&max_id={page[-1].id}"
    return activity_json(document)


# --- the ActivityStreams side of pages people read ---------------------------------------------

async def negotiate():
    """A profile or a post asked for as ActivityStreams: the Person or the Note instead of the page."""
    if request.method != "GET" or not current_app.config["FEDERATION"] or not wants_activity_json():
        return None
    db = get_session()
    args = request.view_args or {}
    if request.endpoint == "profiles.user":
        user = await User.by_nickname(db, args.get("nickname", ""))
        return activity_json(await documents.person_of(get_session(), user)) if user is not None else abort(404)
    if request.endpoint == "posts.show":
        post = await db.get(Post, args.get("post_id"))
        author = post is not None and await db.get(User, post.user_id)
        if not author or not author.is_local:
            abort(404)
        document = {"@context": documents.CONTEXT[0], **documents.note(post, author)}
        return activity_json(document)
    return None


NEGOTIATED = ("profiles.user", "posts.show")


def vary_on_accept(response: Response) -> Response:
    if request.endpoint in NEGOTIATED:
        response.vary.add("Accept")
    return response
