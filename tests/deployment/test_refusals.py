"""The outermost layer refuses what no view should see, in-process (tests/test_serving_hardening.py
checks the same through a served socket): a WebSocket handshake, a request framed two ways."""
from microblog.deployment.refusals import REFUSED, Refusals


async def call(scope: dict) -> tuple[list[dict], bool]:
    sent, reached = [], []

    async def app(scope, receive, send):
        reached.append(scope)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await Refusals(app)(scope, receive, send)
    return sent, bool(reached)


def http(headers, version="1.1") -> dict:
    return {"type": "http", "http_version": version, "method": "POST", "path": "/post", "headers": headers}


async def test_a_websocket_handshake_is_closed_before_it_is_accepted():
    sent, reached = await call({"type": "websocket", "path": "/anything", "headers": []})
    assert sent == [{"type": "websocket.close", "code": 1000}] and not reached


async def test_content_length_and_transfer_encoding_together_are_refused_and_the_connection_closed():
    for version, closes in (("1.1", True), ("1.0", True), ("2", False)):
        sent, reached = await call(http([(b"Content-Length", b"5"), (b"Transfer-Encoding", b"chunked")], version))
        assert not reached
        start, body = sent
        assert start["status"] == 400 and body["body"] == REFUSED
        assert ((b"connection", b"close") in start["headers"]) is closes


async def test_every_other_request_goes_on():
    for headers in ([(b"content-length", b"5")], [(b"transfer-encoding", b"chunked")], []):
        sent, reached = await call(http(headers))
        assert reached and sent == []
    sent, reached = await call({"type": "lifespan"})
    assert reached
