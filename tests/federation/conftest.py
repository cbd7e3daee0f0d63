"""A site that federates, and a server elsewhere for it to talk to: `elsewhere` is a real HTTP
server on loopback (a thread) that serves actor documents and keeps what its inboxes receive,
with keys of its own (tests/federation/keys/). Private addresses are allowed for these apps only.

And a real peer: a Fedify peer and our app, over HTTPS, offline (network.py).

    def test_something(fediverse, peer, site_a):
        peer.follow("bob", "@alice@a.test")                      # the peer's control API
        response = fediverse.client.get(f"{site_a.url}/user/alice")  # https://a.test, through nginx
        assert fediverse.nginx.requests(host="a.test", path="/.well-known/webfinger")

`fediverse` (the namespace, CA, nginx and the peer) starts once per session, or per xdist worker;
`site_a` and `site_b` are our app at https://a.test and https://b.test, each started on first use
and kept for the session: tests that share them use names of their own (`unique`).
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from microblog.federation.signatures import sign, sign_rfc9421

from .network import HarnessError, fediverse as start_fediverse, unavailable

KEYS = Path(__file__).resolve().parent / "keys"


@pytest.fixture
def app_config(app_config) -> dict:
    # Mail (a new follower from elsewhere is told by mail) goes to the log: tests/mail reads mail.
    return {**app_config, "BASE_URL": "http://localhost", "FEDERATION": True, "FEDERATION_ALLOW_PRIVATE_ADDRESSES": True,
            "MAIL_SUPPRESS_SEND": True}


class Elsewhere:
    """Another server: `person(name)` makes an actor there; `received` is what its inboxes got
    (method, path, headers, parsed body); `fetched` the paths asked for; `files` other things it
    serves (path: (content type, bytes)), pictures say."""

    def __init__(self):
        self.documents: dict[str, dict] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.received: list[tuple[str, dict, dict]] = []
        self.fetched: list[str] = []
        self.inbox_status = 202  # what its inboxes answer
        self.private_key = (KEYS / "rsa-bob.pem").read_text()
        self.public_key = (KEYS / "rsa-bob.pub.pem").read_text()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.fetched.append(self.path)
                if self.path in outer.files:
                    content_type, body = outer.files[self.path]
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.end_headers()
                    self.wfile.write(body)
                    return
                document = outer.documents.get(self.path.split("#")[0])
                self.send_response(200 if document else 404)
                self.send_header("Content-Type", "application/activity+json")
                self.end_headers()
                self.wfile.write(json.dumps(document or {}).encode())

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(outer.inbox_status)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.host = f"127.0.0.1:{self.server.server_port}"  # as handles name it: bob@127.0.0.1:port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def person(self, name: str) -> str:
        actor = f"{self.url}/users/{name}"
        self.documents[f"/users/{name}"] = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor, "type": "Person", "preferredUsername": name, "name": name.title(),
            "inbox": f"{actor}/inbox", "endpoints": {"sharedInbox": f"{self.url}/inbox"},
            "url": f"{self.url}/@{name}",
            "publicKey": {"id": f"{actor}#main-key", "owner": actor, "publicKeyPem": self.public_key},
        }
        self.documents[f"/.well-known/webfinger?resource=acct:{name}@{self.host}"] = {
            "subject": f"acct:{name}@{self.host}",
            "links": [{"rel": "self", "type": "application/activity+json", "href": actor}]}
        return actor

    def signed(self, actor: str, url: str, activity: dict, rfc9421: bool = False) -> tuple[bytes, dict]:
        """`activity` as `actor` would send it to `url`: its body and headers signed as Mastodon
        signs (draft-cavage), or as Fedify signs first (RFC 9421)."""
        body = json.dumps(activity).encode()
        headers = {"Content-Type": "application/activity+json"}
        signer = sign_rfc9421 if rfc9421 else sign
        headers.update(signer("POST", url, headers, body, f"{actor}#main-key", self.private_key))
        return body, headers

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere():
    server = Elsewhere()
    yield server
    server.close()


# --- a real peer, over HTTPS, in a network namespace (network.py) ---------------------------

_timings: list[dict] = []  # this process's start-up times, for the summary


@pytest.fixture(scope="session")
def fediverse():
    if reason := unavailable():
        pytest.skip(reason)
    try:
        with start_fediverse() as world:
            _timings.append(world.timings)
            yield world
    except HarnessError as error:
        pytest.fail(f"the federation harness did not start: {error}", pytrace=False)


def pytest_terminal_summary(terminalreporter):
    """How long the harness took to start (not shown under xdist: workers' output is not)."""
    for timings in _timings:
        terminalreporter.write_line("federation harness: " + ", ".join(
            f"{step} {seconds:.1f} s" for step, seconds in timings.items()))


@pytest.fixture(scope="session")
def peer(fediverse):
    return fediverse.peer


def _site(fediverse, host: str):
    try:
        return fediverse.site(host)
    except HarnessError as error:
        pytest.fail(f"our app at https://{host} did not start: {error}", pytrace=False)


@pytest.fixture(scope="session")
def site_a(fediverse):
    return _site(fediverse, "a.test")


@pytest.fixture(scope="session")
def site_b(fediverse):
    return _site(fediverse, "b.test")
