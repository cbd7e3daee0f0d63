"""People from elsewhere are shown with their own pictures, copied to this site (the reader's
browser asks only this site; the CSP keeps img-src 'self'); what is not a picture, or too large,
leaves them their identicon. A handle taken over by a new actor leaves the old one its follows."""
import re

import pytest
from sqlalchemy import select

from conftest import make_user
from microblog.accounts import User
from microblog.avatars import PICTURE_MAX, Picture
from microblog.federation import RemoteActor
from microblog.follows.models import followers
from microblog.federation.remote import parse_actor, remember
from microblog.jobs import Job, run_one
from search.support import jobs_done

from .test_inbox import INBOX, deliver, follow_activity

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
GIF = b"GIF89a" + bytes(100)


async def bob_follows_alice(app, client, db, elsewhere, icon: str | None):
    alice = await make_user(db, "alice")
    bob = elsewhere.person("bob")
    if icon:
        elsewhere.documents["/users/bob"]["icon"] = {"type": "Image", "url": f"{elsewhere.url}{icon}"}
    await deliver(client, elsewhere, bob, follow_activity(bob, alice), INBOX.format(alice.id))
    await jobs_done(app)
    return bob


async def pictures_in(client, path: str) -> list[str]:
    page = await (await client.get(path)).get_data(as_text=True)
    return re.findall(r'<img[^>]* src="([^"]+)"', page)


async def test_a_follower_elsewhere_is_shown_with_their_own_picture(app, client, db, elsewhere):
    elsewhere.files["/bob.png"] = ("image/png", PNG)
    await bob_follows_alice(app, client, db, elsewhere, "/bob.png")
    [shown] = await pictures_in(client, "/user/alice/followers")
    assert re.fullmatch(r"/avatar/\d+/[0-9a-f]{32}", shown)
    picture = await client.get(shown)
    assert picture.status_code == 200 and await picture.get_data() == PNG
    assert picture.headers["Content-Type"] == "image/png" and picture.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in picture.headers["Cache-Control"]
    assert elsewhere.fetched.count("/bob.png") == 1


async def test_a_new_picture_replaces_the_old_and_old_addresses_lead_to_it(app, client, db, elsewhere):
    elsewhere.files["/bob.png"] = ("image/png", PNG)
    elsewhere.files["/bob.gif"] = ("image/gif", GIF)
    bob = await bob_follows_alice(app, client, db, elsewhere, "/bob.png")
    [old] = await pictures_in(client, "/user/alice/followers")
    document = dict(elsewhere.documents["/users/bob"], icon={"type": "Image", "url": f"{elsewhere.url}/bob.gif"})
    update = {"id": f"{bob}#updates/1", "type": "Update", "actor": bob, "object": document}
    assert (await deliver(client, elsewhere, bob, update, "http://localhost/inbox")).status_code == 202
    await jobs_done(app)
    [new] = await pictures_in(client, "/user/alice/followers")
    assert new != old and await (await client.get(new)).get_data() == GIF
    moved = await client.get(old)  # a page kept from before
    assert moved.status_code == 302 and moved.headers["Location"] == new

    document = {key: value for key, value in document.items() if key != "icon"}  # no picture at all now
    update = {"id": f"{bob}#updates/2", "type": "Update", "actor": bob, "object": document}
    await deliver(client, elsewhere, bob, update, "http://localhost/inbox")
    await jobs_done(app)
    [identicon] = await pictures_in(client, "/user/alice/followers")
    assert identicon.endswith(".svg?v=1") and await db.scalar(select(Picture.user_id)) is None


@pytest.mark.parametrize("content_type, body", [
    ("image/png", b"<html><script>alert(1)</script></html>"),  # says it is a PNG; it is not
    ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
    ("image/png", b"\x89PNG\r\n\x1a\n" + bytes(PICTURE_MAX)),  # too large
])
async def test_what_is_not_a_picture_or_too_large_leaves_the_identicon(app, client, db, elsewhere, content_type, body):
    elsewhere.files["/bob.png"] = (content_type, body)
    await bob_follows_alice(app, client, db, elsewhere, "/bob.png")
    [shown] = await pictures_in(client, "/user/alice/followers")
    assert shown.endswith(".svg?v=1") and await db.scalar(select(Picture.user_id)) is None


async def test_a_picture_at_a_private_address_is_never_fetched(app, db, elsewhere):
    app.config["FEDERATION_ALLOW_PRIVATE_ADDRESSES"] = False
    elsewhere.files["/bob.png"] = ("image/png", PNG)
    https = elsewhere.url.replace("http://", "https://")  # refused before any TLS: by its address
    document = dict(elsewhere.documents.get("/users/bob") or {}, **{
        "id": f"{https}/users/bob", "type": "Person", "preferredUsername": "bob", "inbox": f"{https}/users/bob/inbox",
        "publicKey": {"id": f"{https}/users/bob#main-key", "owner": f"{https}/users/bob",
                      "publicKeyPem": elsewhere.public_key},
        "icon": {"type": "Image", "url": f"{https}/bob.png"}})
    async with app.app_context():
        await remember(db, parse_actor(document, document["id"]))
    await db.commit()
    assert await run_one(app)
    copy = await db.scalar(select(Job).where(Job.kind == "federation.picture"))
    assert copy.state == "failed" and "127.0.0.1 is a private address" in copy.last_error
    assert "/bob.png" not in elsewhere.fetched and await db.scalar(select(Picture.user_id)) is None


async def test_a_handle_taken_by_a_new_actor_leaves_the_old_one_its_follows(app, client, db, elsewhere):
    bob = await bob_follows_alice(app, client, db, elsewhere, None)
    old = await db.scalar(select(RemoteActor.user_id).where(RemoteActor.actor_id == bob))
    # bob's account there is deleted and made again: the same handle, another actor (and key).
    document = dict(elsewhere.documents.pop("/users/bob"), id=f"{elsewhere.url}/users/bob2",
                    inbox=f"{elsewhere.url}/users/bob2/inbox",
                    publicKey={"id": f"{elsewhere.url}/users/bob2#main-key", "owner": f"{elsewhere.url}/users/bob2",
                               "publicKeyPem": elsewhere.public_key})
    elsewhere.documents["/users/bob2"] = document
    new_bob = document["id"]
    alice = await db.scalar(select(User).where(User.nickname == "alice"))
    follow = dict(follow_activity(new_bob, alice), id=f"{new_bob}/follows/1")
    assert (await deliver(client, elsewhere, new_bob, follow, INBOX.format(alice.id))).status_code == 202
    await jobs_done(app)
    db.expunge_all()
    new = await db.scalar(select(RemoteActor.user_id).where(RemoteActor.actor_id == new_bob))
    assert new != old
    assert (await db.get(User, new)).handle == f"bob@{elsewhere.host}"
    assert (await db.get(User, old)).nickname == f"~{old}"
    pairs = {tuple(row) for row in await db.execute(select(followers.c.follower_id, followers.c.followed_id))}
    assert pairs == {(old, alice.id), (new, alice.id)}
