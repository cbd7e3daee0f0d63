"""A hostile server: answers too large, endless, or dripped a byte at a time never hold the site
(each fetch stops at its size limit or at FEDERATION_TIMEOUT in all), and the person who looked
it up is told in a sentence."""
import socketserver
import threading
import time

import pytest
from sqlalchemy import select

from conftest import make_user
from helpers import login, text_of
from microblog.federation.delivery import deliver_to
from microblog.jobs import Job, run_one


class Hostile:
    """A raw HTTP server on loopback: /huge answers 2 MB of JSON, /flood bytes for ever, /drip one
    byte every 0.2 s for ever (after its headers), /inbox drips its headers."""

    def __init__(self):
        outer = self
        self.stop = threading.Event()

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                request = self.rfile.readline().decode("latin-1")
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                path = request.split(" ")[1] if " " in request else "/"
                try:
                    outer.answer(path, self.wfile)
                except OSError:
                    pass  # the site hung up: as it should

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str, out) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n"
        if path.startswith("/huge"):
            body = b'{"type": "Person", "padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
            out.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        elif path.startswith("/flood"):
            out.write(head + b"\r\n")
            while not self.stop.is_set():
                out.write(b"x" * 65536)
        elif path.startswith("/drip"):
            out.write(head + b"\r\n{")
            while not self.stop.is_set():
                out.write(b" ")
                out.flush()
                time.sleep(0.2)
        elif path.startswith("/inbox"):
            for byte in b"HTTP/1.1 202 Accepted\r\nX-Slow: " + b"x" * 1000:
                if self.stop.is_set():
                    return
                out.write(bytes([byte]))
                out.flush()
                time.sleep(0.2)

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile():
    server = Hostile()
    yield server
    server.close()


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "FEDERATION_TIMEOUT": 1.0}


@pytest.mark.parametrize("path, said", [
    ("/huge", "did not say who this is"),  # refused at 1 MB
    ("/flood", "did not say who this is"),  # the same, however long it would go on
    ("/drip", "did not answer"),  # cut at the timeout in all
])
async def test_a_hostile_answer_to_a_look_up_is_cut_short_and_said(app, client, db, hostile, path, said):
    await make_user(db, "alice")
    await login(client, "alice")
    started = time.monotonic()
    page = await text_of(await client.get("/search", query_string={"q": f"{hostile.url}{path}"}))
    assert said in page
    assert time.monotonic() - started < 10  # never the server's pace


async def test_an_inbox_that_drips_its_answer_is_given_up_and_retried_later(app, db, hostile):
    alice = await make_user(db, "alice")
    deliver_to(db, f"{hostile.url}/inbox", {"id": "https://example.org/1", "type": "Create"}, alice.id)
    await db.commit()
    started = time.monotonic()
    assert await run_one(app)
    assert time.monotonic() - started < 10
    job = await db.scalar(select(Job).where(Job.kind == "federation.deliver"))
    await db.refresh(job)
    assert job.state == "queued" and job.attempts == 1 and "timeout" in job.last_error


async def test_a_look_up_ends_within_half_the_request_s_time_whatever_each_fetch_may_take(app, client, db, hostile):
    app.config.update(FEDERATION_TIMEOUT=30.0, REQUEST_TIMEOUT=2.0)  # each fetch could wait 30 s
    await make_user(db, "alice")
    await login(client, "alice")
    started = time.monotonic()
    page = await text_of(await client.get("/search", query_string={"q": f"{hostile.url}/drip"}))
    assert "did not answer" in page and time.monotonic() - started < 5
