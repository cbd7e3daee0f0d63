"""The harness itself: the Fedify peer and our app answer over HTTPS under their own names.

These check the ground the federation tests stand on (network.py): the peer is a real ActivityPub
server at https://peer.test, our app is served at https://a.test behind nginx, and the peer's
requests reach our app by its name.
"""
import re
import ssl
import sys

import httpx
import pytest

from .network import PeerError, unique, wait_for

pytestmark = pytest.mark.federation

ACTIVITY_JSON = "application/activity+json"


def test_the_peer_answers_webfinger_over_https(fediverse, peer):
    response = fediverse.client.get("https://peer.test/.well-known/webfinger",
                                    params={"resource": "acct:bob@peer.test"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jrd+json")
    jrd = response.json()
    assert jrd["subject"] == "acct:bob@peer.test"
    assert {"rel": "self", "type": ACTIVITY_JSON, "href": "https://peer.test/users/bob"} in jrd["links"]


def test_the_peer_serves_bob_as_a_person_with_keys(fediverse, peer):
    response = fediverse.client.get(peer.actor("bob"), headers={"Accept": ACTIVITY_JSON})

    assert response.status_code == 200
    bob = response.json()
    assert bob["type"] == "Person"
    assert bob["id"] == "https://peer.test/users/bob"
    assert bob["preferredUsername"] == "bob"
    assert bob["inbox"] == "https://peer.test/users/bob/inbox"
    assert bob["endpoints"]["sharedInbox"] == "https://peer.test/inbox"
    assert bob["publicKey"]["owner"] == bob["id"]
    assert bob["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert any(key["type"] == "Multikey" for key in bob["assertionMethod"])  # Ed25519


def test_certificates_of_another_ca_are_refused(fediverse, peer):
    """The TLS is real: without the throw-away CA, the peer's certificate is not trusted."""
    transport = httpx.HTTPTransport(uds=str(fediverse.nginx.socket), verify=ssl.create_default_context())
    with httpx.Client(transport=transport) as stranger, pytest.raises(httpx.ConnectError, match="CERTIFICATE"):
        stranger.get("https://peer.test/.well-known/webfinger?resource=acct:bob@peer.test")


@pytest.mark.parametrize("host", ["a.test", "b.test"])
def test_our_app_is_served_over_tls_behind_nginx_with_its_name(fediverse, host):
    site = fediverse.site(host)  # a.test is site_a's; b.test starts here, the same way

    response = fediverse.client.get(f"{site.url}/auth/login")

    assert response.status_code == 200
    assert "Sign In" in response.text
    # Behind the proxy the app knows it is served over https (X-Forwarded-Proto): HSTS and
    # secure cookies, as in production.
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert all("secure" in cookie.lower() for cookie in response.headers.get_list("set-cookie"))
    assert fediverse.nginx.requests(host=host, path="/auth/login")[-1]["status"] == 200
    assert "GET /auth/login" in site.log_tail()  # it was this instance that answered


def test_the_home_page_sends_visitors_to_log_in_on_the_same_host(fediverse, site_a):
    response = fediverse.client.get(f"{site_a.url}/")

    assert response.status_code in (302, 303)
    location = response.headers["location"]
    assert location.startswith("/") or location.startswith("https://a.test/"), location


def test_the_peer_publishes_a_note_and_lists_it(peer):
    alice = unique("bob")  # a person of this test's own on the long-lived peer
    peer.add_person(alice)

    sent = peer.publish(alice, "<p>Hello from the peer</p>")

    assert sent["note"].startswith(f"https://peer.test/users/{alice}/notes/")
    [create] = peer.outbox(alice)
    assert create["type"] == "Create"
    assert create["object"]["content"] == "<p>Hello from the peer</p>"
    assert peer.received(alice) == []  # nobody follows: nothing came back


def test_the_note_is_in_the_peers_public_outbox(fediverse, peer):
    name = unique("carol")
    peer.add_person(name)
    sent = peer.publish(name, "<p>In the outbox</p>")

    response = fediverse.client.get(f"https://peer.test/users/{name}/outbox", headers={"Accept": ACTIVITY_JSON})

    assert response.status_code == 200
    outbox = response.json()
    assert outbox["type"] == "OrderedCollection"
    assert [item["object"]["id"] for item in outbox["orderedItems"]] == [sent["note"]]


def test_two_people_on_the_peer_follow_each_other_over_https(peer):
    """The peer delivers to itself through nginx: WebFinger, actor fetch, signed POSTs to an inbox."""
    dave, erin = unique("dave"), unique("erin")
    peer.add_person(dave)
    peer.add_person(erin)

    peer.follow(dave, f"@{erin}@peer.test")

    follow = peer.wait_for_activity(erin, "Follow", actor=peer.actor(dave))
    assert follow["object"] == peer.actor(erin)
    peer.wait_for_activity(dave, "Accept", actor=peer.actor(erin))
    assert [f["state"] for f in peer.following(dave)] == ["accepted"]
    assert [f["actor"] for f in peer.followers(erin)] == [peer.actor(dave)]

    peer.publish(erin, "<p>for my followers</p>")
    create = peer.wait_for_activity(dave, "Create", actor=peer.actor(erin))
    assert create["objectType"] == "Note" and create["content"] == "<p>for my followers</p>"
    assert all(request["status"] < 300 for request in peer.inbox_requests())

    peer.unfollow(dave, peer.actor(erin))
    peer.wait_for_activity(erin, "Undo", actor=peer.actor(dave))
    assert peer.following(dave) == []


def test_asked_to_follow_nobody_on_our_app_the_peer_asks_it_webfinger(fediverse, peer, site_a):
    """The peer's look-up of a handle reaches https://a.test by name; for someone who is not
    there, our WebFinger says 404 and the peer says it found nobody."""
    nobody = unique("nobody")
    with pytest.raises(PeerError) as refused:
        peer.follow("bob", f"@{nobody}@a.test")

    assert refused.value.status == 404
    [asked] = [request for request in fediverse.nginx.requests(host="a.test", path="/.well-known/webfinger")
               if nobody in request["uri"]]
    assert re.search(rf"resource=acct(:|%3A){nobody}(@|%40)a\.test", asked["uri"])
    assert asked["status"] == 404
    assert "Fedify" in asked["agent"]
    # The app's own access log has it too (written once the answer is sent: waited for; it leaves
    # queries out).
    wait_for(lambda: any('"GET /.well-known/webfinger 1.1" 404' in line and "Fedify" in line
                         for line in site_a.log.read_text().splitlines()), "the app's log line", 10)


def test_commands_run_inside_the_namespace_see_the_names(fediverse, peer):
    resolved = fediverse.run(sys.executable, "-c", "import socket; print(socket.gethostbyname('peer.test'))")

    assert resolved.stdout.strip() == "127.0.0.4"
