"""A site that federates, and a server elsewhere for it to talk to: `elsewhere` is a real HTTP
server on loopback (a thread) that serves actor documents and keeps what its inboxes receive,
with keys of its own (tests/federation/keys/). Private addresses are allowed for these apps only."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from microblog.federation.signatures import sign, sign_rfc9421

KEYS = Path(__file__).resolve().parent / "keys"


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "BASE_URL": "http://localhost", "FEDERATION": True, "FEDERATION_ALLOW_PRIVATE_ADDRESSES": True}


class Elsewhere:
    """Another server: `person(name)` makes an actor there; `received` is what its inboxes got
    (method, path, headers, parsed body); `fetched` the paths asked for."""

    def __init__(self):
        self.documents: dict[str, dict] = {}
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
