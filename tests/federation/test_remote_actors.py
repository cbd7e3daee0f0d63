"""What is kept of another server's actor document, and what is refused: an actor that is not
one, answers for another host, has no key of its own, or no inbox."""
from pathlib import Path

import pytest

from microblog.federation.fetch import FetchFailed
from microblog.federation.remote import parse_actor

KEYS = Path(__file__).resolve().parent / "keys"
BOB = "https://peer.example/users/bob"


@pytest.fixture(autouse=True)
async def in_the_app(app):
    """parse_actor knows this site's own host (http://localhost here): a site's app context."""
    async with app.app_context():
        yield


def document(**changes) -> dict:
    found = {"id": BOB, "type": "Person", "preferredUsername": "bob", "name": "Bob",
             "inbox": f"{BOB}/inbox", "endpoints": {"sharedInbox": "https://peer.example/inbox"},
             "url": "https://peer.example/@bob", "icon": {"type": "Image", "url": "https://peer.example/bob.png"},
             "publicKey": {"id": f"{BOB}#main-key", "owner": BOB,
                           "publicKeyPem": (KEYS / "rsa-bob.pub.pem").read_text()}}
    found.update(changes)
    return {key: value for key, value in found.items() if value is not None}


def test_what_is_kept():
    kept = parse_actor(document(), BOB)
    assert (kept["nickname"], kept["domain"], kept["display_name"]) == ("bob", "peer.example", "Bob")
    assert kept["shared_inbox"] == "https://peer.example/inbox" and kept["icon_url"] == "https://peer.example/bob.png"
    assert kept["key_id"] == f"{BOB}#main-key"


@pytest.mark.parametrize("changes, reason", [
    ({"type": "Note"}, "is not an actor"),
    ({"id": "https://elsewhere.example/users/bob"}, "another host's actor"),
    ({"publicKey": None}, "has no public key"),
    ({"publicKey": {"id": "https://elsewhere.example/keys/1", "owner": BOB, "publicKeyPem": "x"}}, "is not its own"),
    ({"publicKey": {"id": f"{BOB}#main-key", "owner": "https://peer.example/users/eve", "publicKeyPem": "x"}},
     "is not its own"),
    ({"publicKey": {"id": f"{BOB}#main-key", "owner": BOB, "publicKeyPem": "not a key"}}, "cannot be read"),
    ({"inbox": None}, "no inbox"),
    ({"inbox": "ftp://peer.example/inbox"}, "no inbox"),
    ({"preferredUsername": "   "}, "no username"),
    ({"preferredUsername": "bob@admin.example"}, "no username one can type"),
    ({"preferredUsername": "bob\u200b"}, "no username one can type"),
])
def test_what_is_refused(changes, reason):
    with pytest.raises(FetchFailed, match=reason):
        parse_actor(document(**changes), BOB)


def test_a_key_list_and_long_names_are_taken_as_servers_send_them():
    key = document()["publicKey"]
    kept = parse_actor(document(publicKey=[key], name="B" * 500, icon=[{"url": "https://peer.example/a.png"}]), BOB)
    assert kept["key_id"] == f"{BOB}#main-key" and len(kept["display_name"]) == 50
    assert kept["icon_url"] == "https://peer.example/a.png"


def test_an_actor_of_this_site_is_no_one_from_elsewhere():
    ours = "http://localhost/users/1"
    found = document(id=ours, publicKey={"id": f"{ours}#main-key", "owner": ours,
                                         "publicKeyPem": (KEYS / "rsa-bob.pub.pem").read_text()}, inbox=f"{ours}/inbox")
    with pytest.raises(FetchFailed, match="not on another server"):
        parse_actor(found, ours)
