"""How servers elsewhere find people here: WebFinger, host-meta, NodeInfo, the actor document
(content-negotiated on the profile's address too), collections, and posts as Notes."""
import json

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select

from conftest import follow, make_post
from helpers import post, text_of
from microblog.accounts import User
from microblog.federation import ActorKey
from microblog.jobs import Job

AS = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}


async def json_of(response) -> dict:
    return json.loads(await response.get_data(as_text=True))


async def test_webfinger_finds_a_person_by_handle_and_by_address(client, alice):
    response = await client.get("/.well-known/webfinger?resource=acct:alice@localhost")
    assert response.status_code == 200 and response.content_type == "application/jrd+json"
    found = await json_of(response)
    assert found["subject"] == "acct:alice@localhost"
    self_link = next(link for link in found["links"] if link["rel"] == "self")
    assert self_link == {"rel": "self", "type": "application/activity+json", "href": f"http://localhost/users/{alice.id}"}
    assert {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
            "href": "http://localhost/user/alice"} in found["links"]
    for resource in (f"http://localhost/users/{alice.id}", "http://localhost/user/alice", "acct:ALICE@localhost",
                     "acct:@alice@localhost"):
        assert (await json_of(await client.get("/.well-known/webfinger", query_string={"resource": resource}))
                )["subject"] == "acct:alice@localhost", resource


@pytest.mark.parametrize("resource", ["acct:alice@elsewhere.example", "acct:nobody@localhost", "", "acct:",
                                      "http://localhost/users/999", "http://localhost/users/x", "x" * 5000])
async def test_webfinger_knows_nobody_else(client, alice, resource):
    response = await client.get("/.well-known/webfinger", query_string={"resource": resource})
    assert response.status_code == 404


async def test_host_meta_and_nodeinfo(client, db, alice):
    await make_post(db, alice, "hello")
    host_meta = await text_of(await client.get("/.well-known/host-meta"))
    assert 'template="http://localhost/.well-known/webfinger?resource={uri}"' in host_meta
    links = (await json_of(await client.get("/.well-known/nodeinfo")))["links"]
    assert [link["href"] for link in links] == ["http://localhost/nodeinfo/2.0", "http://localhost/nodeinfo/2.1"]
    for version in ("2.0", "2.1"):
        info = await json_of(await client.get(f"/nodeinfo/{version}"))
        assert info["version"] == version and info["protocols"] == ["activitypub"]
        assert info["usage"]["users"]["total"] == 1 and info["usage"]["localPosts"] == 1
        assert info["software"]["name"] == "microblog"


@pytest.mark.parametrize("accept", [AS, LD], ids=["activity+json", "ld+json"])
async def test_the_actor_document(client, db, alice, bob, accept):
    alice.display_name, alice.about_me = "Alice Liddell", "Down the <rabbit> hole https://example.org/x"
    await db.commit()
    await follow(db, bob, alice)
    response = await client.get(f"/users/{alice.id}", headers=accept)
    assert response.status_code == 200 and response.content_type == "application/activity+json"
    assert "Accept" in response.vary
    actor = await json_of(response)
    me = f"http://localhost/users/{alice.id}"
    assert actor["id"] == me and actor["type"] == "Person" and actor["preferredUsername"] == "alice"
    assert actor["name"] == "Alice Liddell" and actor["url"] == "http://localhost/user/alice"
    assert actor["summary"] == ('<p>Down the &lt;rabbit&gt; hole <a href="https://example.org/x" '
                                'rel="nofollow noopener noreferrer ugc" class="post-link">example.org/x</a></p>')
    assert actor["inbox"] == me + "/inbox" and actor["outbox"] == me + "/outbox"
    assert actor["followers"] == me + "/followers" and actor["following"] == me + "/following"
    assert actor["endpoints"] == {"sharedInbox": "http://localhost/inbox"}
    assert actor["icon"] == {"type": "Image", "mediaType": "image/png", "url": f"http://localhost/avatar/{alice.id}.png"}
    key = actor["publicKey"]
    assert key["id"] == me + "#main-key" and key["owner"] == me
    assert load_pem_public_key(key["publicKeyPem"].encode()).key_size == 2048
    stored = await db.scalar(select(ActorKey).where(ActorKey.user_id == alice.id))
    assert stored.public_key_pem == key["publicKeyPem"] and "PRIVATE" in stored.private_key_pem
    assert "PRIVATE" not in await response.get_data(as_text=True)
    # The same key next time; the profile's address answers the same document to servers.
    assert (await json_of(await client.get(f"/users/{alice.id}", headers=accept)))["publicKey"] == key
    assert await json_of(await client.get("/user/alice", headers=accept)) == actor
    followers = await json_of(await client.get(f"/users/{alice.id}/followers", headers=AS))
    assert followers["type"] == "OrderedCollection" and followers["totalItems"] == 1


async def test_people_asking_for_an_actor_get_the_profile_page(client, alice):
    response = await client.get(f"/users/{alice.id}", headers={"Accept": "text/html"})
    assert response.status_code == 302 and response.headers["Location"] == "http://localhost/user/alice"
    page = await client.get("/user/alice", headers={"Accept": "text/html"})
    assert page.content_type.startswith("text/html") and "Accept" in page.vary


async def test_a_renamed_account_keeps_its_actor(client, db, alice):
    before = await json_of(await client.get(f"/users/{alice.id}", headers=AS))
    alice.nickname = "alice2"
    await db.commit()
    after = await json_of(await client.get(f"/users/{alice.id}", headers=AS))
    assert after["id"] == before["id"] and after["publicKey"] == before["publicKey"]
    assert after["preferredUsername"] == "alice2"


async def test_no_actor_for_nobody_or_for_someone_elsewhere(client, db):
    remote = User(nickname="bob", domain="peer.example")
    db.add(remote)
    await db.commit()
    assert (await client.get(f"/users/{remote.id}", headers=AS)).status_code == 404
    assert (await client.get("/users/12345", headers=AS)).status_code == 404
    assert (await client.get("/user/nobody", headers=AS)).status_code == 404


async def test_posts_are_notes_and_the_outbox_pages_them(app, client, db, alice):
    posts = [await make_post(db, alice, f"post {n}\n\nsee https://example.org/{n}") for n in range(25)]
    response = await client.get(f"/post/{posts[0].id}", headers=AS)
    assert "Accept" in response.vary
    note = await json_of(response)
    assert note["id"] == note["url"] == f"http://localhost/post/{posts[0].id}" and note["type"] == "Note"
    assert note["attributedTo"] == f"http://localhost/users/{alice.id}"
    assert note["content"] == ('<p>post 0</p><p>see <a href="https://example.org/0" rel="nofollow noopener noreferrer ugc"'
                               ' class="post-link">example.org/0</a></p>')
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert note["cc"] == [f"http://localhost/users/{alice.id}/followers"]
    assert note["published"].endswith("Z")
    outbox = await json_of(await client.get(f"/users/{alice.id}/outbox", headers=AS))
    assert outbox["totalItems"] == 25
    first = await json_of(await client.get(outbox["first"].removeprefix("http://localhost"), headers=AS))
    assert [item["type"] for item in first["orderedItems"]] == ["Create"] * 20
    assert first["orderedItems"][0]["object"]["id"] == f"http://localhost/post/{posts[-1].id}"
    second = await json_of(await client.get(first["next"].removeprefix("http://localhost"), headers=AS))
    assert len(second["orderedItems"]) == 5 and "next" not in second


async def test_the_instance_actor(client):
    actor = await json_of(await client.get("/actor", headers=AS))
    assert actor["id"] == "http://localhost/actor" and actor["type"] == "Application"
    assert actor["publicKey"]["owner"] == "http://localhost/actor"
    assert (await json_of(await client.get("/actor", headers=AS)))["publicKey"] == actor["publicKey"]


async def test_registering_queues_the_accounts_keys(app, client, db):
    await post(client, "/auth/register", {"nickname": "carol", "email": "carol@example.com",
                                          "password": "correct horse", "password2": "correct horse"})
    carol = await User.by_nickname(db, "carol")
    kinds = [(job.kind, job.payload) for job in await db.scalars(select(Job))]
    assert ("federation.key_pair", {"user_id": carol.id}) in kinds
