"""Served under a path prefix (e.g. https://example.org/microblog/) behind a reverse proxy.

The proxy passes the whole path on (`/microblog/user/bob`); the app's routes know only
`/user/bob`. ASGI's `root_path` is the prefix: Quart takes it off the path it routes, and
`url_for` puts it in front of every URL it builds (links, redirects, static files, htmx URLs,
form actions, cursor links). The scheme the browser used comes from `X-Forwarded-Proto`, only
when TRUSTED_PROXIES says a proxy of ours sets it (a client could send anything)."""
from urllib.parse import quote

from ..config import normalise_prefix

FORWARDED_SCHEMES = {"http", "https"}


def forwarded_scheme(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The scheme in the last X-Forwarded-Proto (the one our proxy set), if it is one."""
    values = [value for name, value in headers if name.lower() == b"x-forwarded-proto"]
    if not values:
        return None
    scheme = values[-1].decode("latin-1").split(",")[-1].strip().lower()
    return scheme if scheme in FORWARDED_SCHEMES else None


class BehindProxy:
    """ASGI middleware: the prefix as root_path (the bare prefix redirects to prefix + "/"), and
    the forwarded scheme when proxies are trusted."""

    def __init__(self, app, prefix: str, trust_forwarded: bool):
        self.app, self.prefix, self.trust_forwarded = app, prefix, trust_forwarded

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        scope = dict(scope)
        if self.trust_forwarded and (scheme := forwarded_scheme(scope["headers"])):
            scope["scheme"] = scheme if scope["type"] == "http" else {"http": "ws", "https": "wss"}[scheme]
        if self.prefix:
            if scope["type"] == "http" and scope["path"] == self.prefix:
                query = scope.get("query_string", b"").decode("latin-1")
                location = quote(self.prefix) + "/" + (f"?{query}" if query else "")
                await send({"type": "http.response.start", "status": 308,
                            "headers": [(b"location", location.encode("latin-1")),
                                        (b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": b""})
                return
            # Quart strips root_path from the path it routes; a path outside the prefix is a 404,
            # but for /.well-known/ (WebFinger, NodeInfo), which other servers ask at the host's root.
            if not scope.get("root_path") and not (scope["path"].startswith("/.well-known/")
                                                   and not scope["path"].startswith(self.prefix + "/")):
                scope["root_path"] = self.prefix
        await self.app(scope, receive, send)
