"""A server no one here wrote: the Fedify peer at https://peer.test finds a person at https://a.test
by WebFinger, follows her (accepted), receives what she posts, deletes and changes, and stops
receiving after unfollowing; a tampered or unsigned delivery is refused; a post waits for a peer
that is down. And the other way: a person here looks someone on the peer up from the search box,
follows him, and reads his posts (public and followers-only), edits and deletions."""
import re

import httpx
import pytest

from .network import unique, wait_for

pytestmark = pytest.mark.federation
PASSWORD = "correct horse battery"


class Browser:
    """A person using https://a.test through nginx, with cookies and the CSRF token of the page."""

    def __init__(self, fediverse, site):
        self.client = httpx.Client(transport=fediverse.client._transport, base_url=site.url, timeout=30)

    def token(self, path: str) -> str:
        page = self.client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def submit(self, path: str, form: dict, page: str | None = None) -> httpx.Response:
        response = self.client.post(path, data={**form, "csrf_token": self.token(page or path)})
        assert response.status_code in (200, 303), (path, response.status_code, response.text[:300])
        return response

    def sign_up(self, nickname: str) -> None:
        self.submit("/auth/register", {"nickname": nickname, "email": f"{nickname}@example.org",
                                       "password": PASSWORD, "password2": PASSWORD})
        self.submit("/auth/login", {"nickname": nickname, "password": PASSWORD})


def test_the_peer_follows_someone_here_and_reads_her(fediverse, peer, site_a):
    alice, bob = unique("alice"), unique("bob")
    peer.add_person(bob)
    person = Browser(fediverse, site_a)
    person.sign_up(alice)

    found = peer.follow(bob, f"@{alice}@a.test")  # WebFinger, the actor, then a signed Follow
    alice_actor = found["actor"]
    assert re.fullmatch(r"https://a\.test/users/\d+", alice_actor)
    wait_for(lambda: any(f["state"] == "accepted" for f in peer.following(bob)), "the Accept", 30)
    profile = person.client.get(f"/user/{alice}")
    assert "1 follower" in profile.text and f"@{alice}@a.test" in profile.text

    person.submit("/index", {"post": "Hello from a.test! https://example.org/a"})
    note = peer.wait_for_activity(bob, "Create", actor=alice_actor)
    assert "Hello from a.test!" in note["content"] and 'href="https://example.org/a"' in note["content"]
    post_url = note["object"]

    post_id = post_url.rsplit("/", 1)[1]
    person.submit(f"/post/{post_id}/delete", {}, page=f"/post/{post_id}/delete")
    peer.wait_for_activity(bob, "Delete", actor=alice_actor)

    person.submit("/edit_profile", {"nickname": alice, "display_name": "Alice of a.test", "about_me": "hi",
                                    "timezone": ""})
    update = peer.wait_for_activity(bob, "Update", actor=alice_actor)
    assert update["objectType"] == "Person"

    peer.unfollow(bob, alice_actor)
    wait_for(lambda: "0 followers" in person.client.get(f"/user/{alice}").text, "the Undo", 30)
    person.submit("/index", {"post": "Nobody elsewhere reads this"})
    person.submit("/index", {"post": "Nor this"})
    assert not any("Nobody elsewhere" in (a.get("content") or "") for a in peer.received(bob))

    # Fedify signs with RFC 9421 first and falls back to draft-cavage on a 401: every delivery of
    # this test was taken at the first attempt, RFC 9421-signed.
    inbox = alice_actor.removeprefix("https://a.test") + "/inbox"
    ours = [r for r in fediverse.nginx.requests(host="a.test") if r["method"] == "POST" and r["uri"] == inbox]
    assert [r["status"] for r in ours] == [202, 202]  # the Follow and its Undo, each at the first attempt
    assert all(r["signature_input"] for r in ours), ours  # RFC 9421 (draft-cavage has no Signature-Input)
    assert all(r["signature_input"] for r in ours)


def test_an_unreachable_peer_receives_the_post_once_it_comes_back(fediverse, peer, site_a):
    alice, bob = unique("alice"), unique("bob")
    peer.add_person(bob)
    person = Browser(fediverse, site_a)
    person.sign_up(alice)
    alice_actor = peer.follow(bob, f"@{alice}@a.test")["actor"]
    wait_for(lambda: any(f["state"] == "accepted" for f in peer.following(bob)), "the Accept", 30)

    def refused_deliveries():
        return [r for r in fediverse.nginx.requests(host="peer.test")
                if r["method"] == "POST" and r["status"] == 444 and r["agent"].startswith("microblog")]

    before = len(refused_deliveries())
    with fediverse.unreachable("peer.test"):
        person.submit("/index", {"post": "Written while peer.test was down"})  # saved, answered at once
        wait_for(lambda: len(refused_deliveries()) > before, "a delivery to peer.test while it is down", 30)
    # The first retry comes about 16 s after the first attempt (Mastodon's schedule: attempt⁴ + 15 s).
    note = peer.wait_for_activity(bob, "Create", actor=alice_actor, timeout=60)
    assert "Written while peer.test was down" in note["content"]
    deliveries = [r for r in fediverse.nginx.requests(host="peer.test")
                  if r["method"] == "POST" and r["agent"].startswith("microblog")][before:]
    assert [r["status"] for r in deliveries][-1] == 202 and 444 in [r["status"] for r in deliveries]


def test_an_unsigned_or_tampered_delivery_is_refused(fediverse, peer, site_a):
    alice = unique("alice")
    Browser(fediverse, site_a).sign_up(alice)
    actor = fediverse.client.get(f"https://a.test/.well-known/webfinger?resource=acct:{alice}@a.test").json()
    inbox = actor["links"][0]["href"] + "/inbox"
    follow = {"@context": "https://www.w3.org/ns/activitystreams", "id": "https://peer.test/forged/1",
              "type": "Follow", "actor": peer.actor("bob"), "object": actor["links"][0]["href"]}
    response = fediverse.client.post(inbox, json=follow, headers={"Content-Type": "application/activity+json"})
    assert response.status_code == 401


def test_someone_here_finds_and_follows_someone_on_the_peer(fediverse, peer, site_a):
    alice, bob = unique("alice"), unique("bob")
    bob_actor = peer.add_person(bob)
    person = Browser(fediverse, site_a)
    person.sign_up(alice)

    found = person.client.get("/search", params={"q": f"@{bob}@peer.test"})  # typed, then Enter
    assert found.status_code == 303 and found.headers["Location"] == f"/user/{bob}@peer.test"
    profile = person.client.get(found.headers["Location"]).text
    assert f"@{bob}@peer.test" in profile and "Their profile and older posts on peer.test" in profile
    asked = person.submit(f"/user/{bob}@peer.test/follow", {}, page=f"/user/{bob}@peer.test")
    assert asked.status_code == 303

    wait_for(lambda: any(f["actor"].startswith("https://a.test/users/") for f in peer.followers(bob)),
             "the peer's follower list", 30)
    wait_for(lambda: "Unfollow" in person.client.get(f"/user/{bob}@peer.test").text, "the Accept", 30)
    assert f"@{bob}@peer.test" in person.client.get(f"/user/{alice}/following").text

    person.submit(f"/user/{bob}@peer.test/unfollow", {}, page=f"/user/{bob}@peer.test")
    wait_for(lambda: peer.followers(bob) == [], "the Undo at the peer", 30)
    undo = peer.wait_for_activity(bob, "Undo")
    assert undo["actor"].startswith("https://a.test/users/") and undo["object"] is not None


def test_someone_here_reads_the_posts_edits_and_deletions_of_someone_on_the_peer(fediverse, peer, site_a):
    alice, carol, bob = unique("alice"), unique("carol"), unique("bob")
    peer.add_person(bob)
    person = Browser(fediverse, site_a)
    person.sign_up(alice)
    person.client.get("/search", params={"q": f"@{bob}@peer.test"})
    person.submit(f"/user/{bob}@peer.test/follow", {}, page=f"/user/{bob}@peer.test")
    wait_for(lambda: "Unfollow" in person.client.get(f"/user/{bob}@peer.test").text, "the Accept", 30)

    public = peer.publish(bob, '<p>Scones are ready <script>alert(1)</script><a href="https://tea.example/">menu</a></p>')
    wait_for(lambda: "Scones are ready" in person.client.get("/index").text, "the post in her timeline", 30)
    home = person.client.get("/index").text
    assert "<script>alert(1)" not in home and 'rel="nofollow noopener noreferrer ugc"' in home
    assert f"@{bob}@peer.test" in home
    followers_only = peer.publish(bob, "<p>Only my followers: the secret recipe</p>", to="followers")
    wait_for(lambda: "the secret recipe" in person.client.get("/index").text, "the followers-only post", 30)

    visitor = Browser(fediverse, site_a)  # neither on his profile here nor in search, for anyone
    assert "Scones are ready" in visitor.client.get(f"/user/{bob}@peer.test").text
    assert "the secret recipe" not in visitor.client.get(f"/user/{bob}@peer.test").text
    assert "the secret recipe" not in person.client.get(f"/user/{bob}@peer.test").text
    assert "the secret recipe" not in person.client.get("/search", params={"q": "recipe"}).text
    other = Browser(fediverse, site_a)
    other.sign_up(carol)
    assert "the secret recipe" not in other.client.get("/index").text

    peer.edit(bob, public["note"], "<p>Scones are gone, sorry</p>")
    wait_for(lambda: "Scones are gone" in person.client.get("/index").text, "the edit", 30)
    peer.delete(bob, followers_only["note"])
    wait_for(lambda: "the secret recipe" not in person.client.get("/index").text, "the deletion", 30)

    person.submit(f"/user/{bob}@peer.test/unfollow", {}, page=f"/user/{bob}@peer.test")
    wait_for(lambda: peer.followers(bob) == [], "the Undo at the peer", 30)  # nothing more is sent to a.test
    assert "Scones are gone" not in person.client.get("/index").text  # nor kept in her timeline


def test_someone_here_follows_and_reads_someone_on_another_instance_of_this_app(fediverse, site_a, site_b):
    alice, bob = unique("alice"), unique("bob")
    here, there = Browser(fediverse, site_a), Browser(fediverse, site_b)
    here.sign_up(alice)
    there.sign_up(bob)

    found = here.client.get("/search", params={"q": f"@{bob}@b.test"})
    assert found.headers["Location"] == f"/user/{bob}@b.test"
    here.submit(f"/user/{bob}@b.test/follow", {}, page=f"/user/{bob}@b.test")
    wait_for(lambda: "Unfollow" in here.client.get(f"/user/{bob}@b.test").text, "b.test's Accept", 30)
    assert "1 follower" in there.client.get(f"/user/{bob}").text

    there.submit("/index", {"post": "Hello from b.test, https://example.org/b"})
    wait_for(lambda: "Hello from b.test" in here.client.get("/index").text, "his post on a.test", 30)
    home = here.client.get("/index").text
    assert 'href="https://example.org/b"' in home and f"@{bob}@b.test" in home
    post_id = re.search(r'href="https://b\.test/post/(\d+)"', home)[1]  # the link to the original
    there.submit(f"/post/{post_id}/delete", {}, page=f"/post/{post_id}/delete")
    wait_for(lambda: "Hello from b.test" not in here.client.get("/index").text, "the deletion on a.test", 30)

    here.submit(f"/user/{bob}@b.test/unfollow", {}, page=f"/user/{bob}@b.test")
    wait_for(lambda: "0 followers" in there.client.get(f"/user/{bob}").text, "the Undo on b.test", 30)


def test_a_domain_blocked_by_the_operator_gets_nothing_and_is_refused(fediverse, peer, site_b):
    alice, bob = unique("alice"), unique("bob")
    peer.add_person(bob)
    person = Browser(fediverse, site_b)  # b.test: a.test's tests share the peer unblocked
    person.sign_up(alice)
    alice_actor = peer.follow(bob, f"@{alice}@b.test")["actor"]
    wait_for(lambda: "1 follower" in person.client.get(f"/user/{alice}").text, "the follow", 30)

    blocked = fediverse.quart("b.test", "federation", "block-domain", "peer.test")
    assert blocked.returncode == 0, blocked.stderr
    assert "0 followers" in person.client.get(f"/user/{alice}").text  # his follow ended with it
    person.submit("/index", {"post": "Not for peer.test"})
    before = len(fediverse.nginx.requests(host="b.test"))
    peer.follow(bob, alice_actor)  # he tries again: his server's Follow is refused
    wait_for(lambda: any(r["status"] == 403 for r in fediverse.nginx.requests(host="b.test")[before:]
                         if r["method"] == "POST"), "the peer's delivery refused", 30)
    assert "0 followers" in person.client.get(f"/user/{alice}").text
    assert not any(a["type"] == "Create" and a["actor"] == alice_actor for a in peer.received(bob))
    assert "blocked" in person.client.get("/search", params={"q": f"@{bob}@peer.test"}).text
