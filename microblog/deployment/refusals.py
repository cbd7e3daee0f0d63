"""Requests refused before any of the app runs (ASGI middleware, the outermost layer).

- A WebSocket handshake, to any path: the site has no WebSocket routes. Quart would send it to the
  error handlers, which answer HTTP requests (they read `request`): a 500 and a traceback. It is
  closed before it is accepted, which the server answers 403.
- A request with both Content-Length and Transfer-Encoding. h11 goes by Transfer-Encoding (as RFC
  9112 says), a proxy in front may go by Content-Length: what one takes for a body the other may
  take for a second request, smuggled past the proxy's checks. RFC 9112 §6.1 lets a server refuse
  it, and says to close the connection after: a 400 with `Connection: close`, so nothing that
  follows on the connection is read. A proxy should refuse or repair such requests itself (nginx
  does, docs/vps.md); this is for the app served without one.
"""
REFUSED = b"A request may not have both Content-Length and Transfer-Encoding.\n"


class Refusals:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        if scope["type"] == "http" and framed_two_ways(scope["headers"]):
            headers = [(b"content-type", b"text/plain; charset=utf-8"),
                       (b"content-length", str(len(REFUSED)).encode())]
            if scope.get("http_version") in ("1.0", "1.1"):  # HTTP/2 has no such header (nor such requests)
                headers.append((b"connection", b"close"))
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": REFUSED})
            return
        await self.app(scope, receive, send)


def framed_two_ways(headers: list[tuple[bytes, bytes]]) -> bool:
    names = {name.lower() for name, _ in headers}
    return b"content-length" in names and b"transfer-encoding" in names
