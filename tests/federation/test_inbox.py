"""Another server's people follow people here: a signed Follow is queued and answered 202, then
accepted (a signed Accept goes back); new posts go to the followers' servers; Undo, Delete and
Update of the remote actor; everything unsigned, badly signed or not the signer's is a 401."""
import asyncio
import json

import pytest
from sqlalchemy import select

from conftest import make_user
from helpers import login, post
from microblog.accounts import User
from microblog.db import new_session
from microblog.federation import RemoteActor
from microblog.federation.delivery import deliver_to
from microblog.federation.fetch import FetchFailed, signed_get
from microblog.federation.keys import instance_key
from microblog.federation.models import RemoteHost
from microblog.federation.signatures import public_key_from_pem, verify
from microblog.follows.models import followers
from microblog.jobs import Job, run_one
from search.support import jobs_done

INBOX = "http://localhost/users/{}/inbox"


async def deliver(client, elsewhere, actor: str, activity: dict, url: str, rfc9421: bool = False):
    body, headers = elsewhere.signed(actor, url, activity, rfc9421)
    return await client.post(url.removeprefix("http://localhost"), data=body, headers=headers)


def follow_activity(actor: str, alice) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/follows/1", "type": "Follow",
            "actor": actor, "object": f"http://localhost/users/{alice.id}"}


async def follower_pairs(db) -> set[tuple[int, int]]:
    return {tuple(row) for row in await db.execute(select(followers.c.follower_id, followers.c.followed_id))}

async def followed_from_elsewhere(app, client, db, elsewhere):
    """alice here, followed by bob from elsewhere (accepted, jobs done): alice, bob's actor id."""
    alice = await make_user(db, "alice")
    bob = elsewhere.person("bob")
    await deliver(client, elsewhere, bob, follow_activity(bob, alice), INBOX.format(alice.id))
    await jobs_done(app)
    return alice, bob



async def test_a_follow_from_elsewhere_is_accepted_and_posts_follow_it(app, client, db, elsewhere):
    alice = await make_user(db, "alice")
    bob = elsewhere.person("bob")
    response = await deliver(client, elsewhere, bob, follow_activity(bob, alice), INBOX.format(alice.id))
    assert response.status_code == 202
    await jobs_done(app)

    remote = await db.scalar(select(RemoteActor).where(RemoteActor.actor_id == bob))
    assert remote.inbox == f"{bob}/inbox" and remote.shared_inbox == f"{elsewhere.url}/inbox"
    bob_here = await db.get(User, remote.user_id)
    assert (bob_here.nickname, bob_here.domain, bob_here.display_name) == ("bob", elsewhere.host, "Bob")
    assert await follower_pairs(db) == {(bob_here.id, alice.id)}

    # The Accept went back to bob's inbox, signed by alice's key (the one her actor shows).
    path, headers, accept = elsewhere.received[-1]
    assert path == "/users/bob/inbox" and accept["type"] == "Accept"
    assert accept["actor"] == f"http://localhost/users/{alice.id}" and accept["object"]["id"] == f"{bob}/follows/1"
    alice_actor = json.loads(await (await client.get(f"/users/{alice.id}", headers={
        "Accept": "application/activity+json"})).get_data(as_text=True))
    key = public_key_from_pem(alice_actor["publicKey"]["publicKeyPem"])
    verified = await verify("POST", f"{elsewhere.url}{path}", headers, json.dumps(accept).encode(), lambda *_: key)
    assert verified.key_id == f"http://localhost/users/{alice.id}#main-key"

    # Alice posts: a Create of the Note goes to bob's server, once, at its shared inbox.
    await login(client, "alice")
    await post(client, "/index", {"post": "Hello, fediverse! https://example.org/a"})
    await jobs_done(app)
    path, _, create = elsewhere.received[-1]
    assert path == "/inbox" and create["type"] == "Create"
    assert create["object"]["content"].startswith("<p>Hello, fediverse! <a href=\"https://example.org/a\"")
    assert create["object"]["attributedTo"] == f"http://localhost/users/{alice.id}"

    # Bob unfollows: Undo of his Follow.
    undo = {"id": f"{bob}/follows/1/undo", "type": "Undo", "actor": bob, "object": follow_activity(bob, alice)}
    assert (await deliver(client, elsewhere, bob, undo, "http://localhost/inbox")).status_code == 202
    await jobs_done(app)
    assert await follower_pairs(db) == set()


async def test_the_same_follow_twice_is_one_follow(app, client, db, elsewhere):
    """A copy that arrives while the first waits is not queued (the job's key is the activity's
    id); one that comes later changes nothing but an Accept sent again, as Mastodon does."""
    alice = await make_user(db, "alice")
    bob = elsewhere.person("bob")
    for _ in range(2):
        assert (await deliver(client, elsewhere, bob, follow_activity(bob, alice), INBOX.format(alice.id))
                ).status_code == 202
        await jobs_done(app)
    assert len(await follower_pairs(db)) == 1
    assert {body["type"] for _, _, body in elsewhere.received} == {"Accept"}


async def test_unsigned_wrongly_signed_or_someone_elses_activities_are_refused(app, client, db, elsewhere):
    alice = await make_user(db, "alice")
    bob, carol = elsewhere.person("bob"), elsewhere.person("carol")
    url = INBOX.format(alice.id)
    body = json.dumps(follow_activity(bob, alice)).encode()
    unsigned = await client.post(url, data=body, headers={"Content-Type": "application/activity+json"})
    assert unsigned.status_code == 401

    _, headers = elsewhere.signed(bob, url, follow_activity(bob, alice))
    tampered = body.replace(b"follows/1", b"follows/2")
    assert (await client.post(url, data=tampered, headers=headers)).status_code == 401  # the digest

    # Signed by carol (a key of hers), but claiming to be bob.
    as_carol = await deliver(client, elsewhere, carol, follow_activity(bob, alice), url)
    assert as_carol.status_code == 401
    await jobs_done(app)
    assert await follower_pairs(db) == set()


@pytest.mark.parametrize("content_type, size, status", [
    ("text/plain", 10, 415), ("application/x-www-form-urlencoded", 10, 415),
    ("application/activity+json", 300 * 1024, 413)])
async def test_wrong_types_and_sizes_are_refused(app, client, db, content_type, size, status):
    alice = await make_user(db, "alice")
    response = await client.post(f"/users/{alice.id}/inbox", data=b"x" * size, headers={"Content-Type": content_type})
    assert response.status_code == status


async def test_an_unknown_actor_deleting_itself_is_a_quiet_202(app, client, db, elsewhere):
    ghost = f"{elsewhere.url}/users/ghost"  # gone: its document is 404
    body = json.dumps({"id": f"{ghost}#delete", "type": "Delete", "actor": ghost, "object": ghost}).encode()
    response = await client.post("/inbox", data=body, headers={"Content-Type": "application/activity+json"})
    assert response.status_code == 202 and elsewhere.fetched == []


async def test_a_remote_actor_deleted_or_updated_by_itself(app, client, db, elsewhere):
    alice, bob = await followed_from_elsewhere(app, client, db, elsewhere)
    document = dict(elsewhere.documents["/users/bob"], name="Robert")
    update = {"id": f"{bob}#updates/1", "type": "Update", "actor": bob, "object": document}
    assert (await deliver(client, elsewhere, bob, update, "http://localhost/inbox")).status_code == 202
    await jobs_done(app)
    bob_here = await db.scalar(select(User).where(User.domain == elsewhere.host))
    await db.refresh(bob_here)
    assert bob_here.display_name == "Robert"

    delete = {"id": f"{bob}#delete", "type": "Delete", "actor": bob, "object": bob}
    assert (await deliver(client, elsewhere, bob, delete, "http://localhost/inbox")).status_code == 202
    await jobs_done(app)
    db.expunge_all()
    assert await db.scalar(select(User).where(User.domain == elsewhere.host)) is None
    assert await follower_pairs(db) == set()


async def test_a_follower_from_elsewhere_is_listed_by_handle(app, client, db, elsewhere):
    alice = await make_user(db, "alice")
    await make_user(db, "bob")  # a bob here too: the list must not send anyone to him
    bob = elsewhere.person("bob")
    await deliver(client, elsewhere, bob, follow_activity(bob, alice), INBOX.format(alice.id))
    await jobs_done(app)
    page = await (await client.get("/user/alice/followers")).get_data(as_text=True)
    assert f"@bob@{elsewhere.host}" in page and 'href="/user/bob"' not in page


async def test_an_rfc_9421_signed_follow_is_accepted_at_the_first_attempt(app, client, db, elsewhere):
    """Fedify signs with RFC 9421 first and falls back on a 401: here the first one counts."""
    alice = await make_user(db, "alice")
    bob = elsewhere.person("bob")
    body, headers = elsewhere.signed(bob, INBOX.format(alice.id), follow_activity(bob, alice), rfc9421=True)
    assert "Signature-Input" in headers and "Content-Digest" in headers
    response = await client.post(f"/users/{alice.id}/inbox", data=body, headers=headers)
    assert response.status_code == 202
    await jobs_done(app)
    assert len(await follower_pairs(db)) == 1


async def test_the_profile_shows_the_handle_to_type_elsewhere(app, client, db):
    await make_user(db, "alice")
    page = await (await client.get("/user/alice")).get_data(as_text=True)
    assert "@alice@localhost" in page


async def eventually(check, what: str, timeout: float = 10):
    """`await check()` once it is true (the test app's job runner works meanwhile)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await check()):
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)
    return found


async def test_a_server_failing_for_days_is_skipped_until_it_is_heard_from(app, client, db, elsewhere):
    alice, bob = await followed_from_elsewhere(app, client, db, elsewhere)
    await login(client, "alice")

    async def host_record():
        return await db.get(RemoteHost, "127.0.0.1", populate_existing=True)

    elsewhere.inbox_status = 503  # down: the delivery is retried, and the day counted
    await post(client, "/index", {"post": "Are you there?"})
    record = await eventually(host_record, "no failure recorded")
    assert record.failure_days == 1 and not record.unavailable

    record.failure_days, record.unavailable = 7, True  # a week of failures
    await db.commit()
    await post(client, "/index", {"post": "Nobody hears this."})

    async def fanned_out():
        jobs = list(await db.scalars(select(Job).where(Job.kind == "federation.fan_out")
                                     .execution_options(populate_existing=True)))
        return len(jobs) == 2 and all(job.state == "done" for job in jobs)
    await eventually(fanned_out, "the fan-out did not run")
    deliveries = await db.scalars(select(Job.payload).where(Job.kind == "federation.deliver"))
    assert not any("Nobody hears this." in json.dumps(payload) for payload in deliveries)

    # Bob writes again (an Update): his server is alive, and gets what is sent next.
    elsewhere.inbox_status = 202
    update = {"id": f"{bob}#updates/2", "type": "Update", "actor": bob, "object": elsewhere.documents["/users/bob"]}
    await deliver(client, elsewhere, bob, update, "http://localhost/inbox")
    await eventually(lambda: _alive(host_record), "still marked unavailable")
    await post(client, "/index", {"post": "Back again."})

    async def delivered():
        return any(body.get("object", {}).get("content", "").startswith("<p>Back again.")
                   for _, _, body in elsewhere.received)
    await eventually(delivered, "the post after the server came back was not delivered")


async def _alive(record):
    found = await record()
    return found.failure_days == 0 and not found.unavailable


async def test_a_changed_profile_reaches_followers_elsewhere(app, client, db, elsewhere):
    alice, bob = await followed_from_elsewhere(app, client, db, elsewhere)
    await login(client, "alice")
    response = await post(client, "/edit_profile", {"nickname": "alice", "display_name": "Alice L.",
                                                     "about_me": "new words", "timezone": ""})
    assert response.status_code == 303
    await jobs_done(app)
    path, _, update = elsewhere.received[-1]
    assert path == "/inbox" and update["type"] == "Update" and update["object"]["type"] == "Person"
    assert update["object"]["name"] == "Alice L." and update["object"]["summary"] == "<p>new words</p>"


async def test_with_the_guard_on_no_private_address_is_fetched(app, client, db, elsewhere):
    """As in production: a delivery whose key lives on a private address cannot be checked."""
    app.config["FEDERATION_ALLOW_PRIVATE_ADDRESSES"] = False
    app.extensions.pop("federation_http", None)  # a client made with the guard on
    alice = await make_user(db, "alice")
    bob = elsewhere.person("bob")
    response = await deliver(client, elsewhere, bob, follow_activity(bob, alice), INBOX.format(alice.id))
    assert response.status_code == 401 and elsewhere.fetched == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "[::1]", "169.254.169.254"])
async def test_the_guard_refuses_private_addresses_after_resolving_them(app, host):
    app.config["FEDERATION_ALLOW_PRIVATE_ADDRESSES"] = False
    app.extensions.pop("federation_http", None)
    async with app.app_context():
        async with new_session() as session:
            key = await instance_key(session)
        with pytest.raises(FetchFailed, match="private address"):
            await signed_get(f"https://{host}/users/bob", "https://localhost/actor#main-key", key.private_key_pem)


async def test_a_delivery_to_a_private_address_fails_at_once(app, db):
    app.config["FEDERATION_ALLOW_PRIVATE_ADDRESSES"] = False
    app.extensions.pop("federation_http", None)
    alice = await make_user(db, "alice")
    deliver_to(db, "https://10.0.0.7/inbox", {"id": "https://localhost/x", "type": "Note"}, alice.id)
    await db.commit()
    assert await run_one(app)  # (a job committed outside a request wakes no runner)
    [job] = await jobs_done(app)
    assert (job.state, job.attempts) == ("failed", 1) and "private address" in job.last_error
    assert await db.get(RemoteHost, "10.0.0.7") is None  # not a server that failed: one never asked


async def test_a_flood_from_one_server_queues_within_bounds(app, client, db, elsewhere):
    """Past FEDERATION_INBOX_QUEUE_PER_HOST activities waiting, that server is told to come back
    later (429, Retry-After); others are not."""
    app.config["FEDERATION_INBOX_QUEUE_PER_HOST"] = 2
    await app.extensions["job_runner"].stop(timeout=5)  # what arrives stays queued
    alice = await make_user(db, "alice")
    bob = elsewhere.person("bob")
    answers = []
    for n in range(3):
        activity = {"id": f"{bob}/likes/{n}", "type": "Like", "actor": bob, "object": "http://localhost/post/1"}
        response = await deliver(client, elsewhere, bob, activity, "http://localhost/inbox")
        answers.append((response.status_code, response.headers.get("Retry-After")))
    assert answers == [(202, None), (202, None), (429, "60")]


async def test_an_activity_of_a_shape_no_server_sends_is_dropped_not_retried(app, client, db, elsewhere):
    alice, bob = await followed_from_elsewhere(app, client, db, elsewhere)
    for n, activity in enumerate([
            {"type": ["Follow"], "actor": bob, "object": f"http://localhost/users/{alice.id}"},
            {"type": "Create", "actor": bob, "object": {"type": "Note", "id": f"{bob}/notes/1", "attributedTo": bob,
                                                        "to": 5, "content": ["<p>hi</p>"]}},
            {"type": "Undo", "actor": bob, "object": [1, 2]}]):
        activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{bob}/odd/{n}", **activity}
        assert (await deliver(client, elsewhere, bob, activity, "http://localhost/inbox")).status_code == 202
    jobs = await jobs_done(app)
    assert all(job.state in ("done", "failed") and job.attempts == 1 for job in jobs if job.kind == "federation.inbox")
