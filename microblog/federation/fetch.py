"""Talking to other servers: one HTTP client per worker, signed requests, and a guard that never
lets another server (or a user's input) make this one call a private address.

The guard sits where connections are made (an httpcore network backend): the host name is
resolved there, every address it resolves to must be public, and the connection goes to an
address that was checked, so a name that changes its answer between a check and the connection
(DNS rebinding) gains nothing. FEDERATION_ALLOW_PRIVATE_ADDRESSES=1 lifts it for tests whose peers run on
loopback; never in production. Answers are read up to a size limit, with a timeout."""
import asyncio
import ipaddress
import json
import os
import socket
import ssl

import anyio
import certifi
import httpcore
import httpx
from quart import Quart, current_app

from .documents import ACTIVITY_JSON
from .signatures import sign

ACCEPT = f'{ACTIVITY_JSON}, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MAX_DOCUMENT = 1024 * 1024  # an actor or object larger than this is refused
USER_AGENT = "microblog (ActivityPub; +{})"


class FetchFailed(Exception):
    """Another server could not be asked, or answered with something unusable: the message says
    which; `status` is its HTTP answer when it gave one that was not 200, `unanswered` whether
    it could not be reached or did not answer in time."""

    def __init__(self, reason: str, status: int | None = None, unanswered: bool = False):
        super().__init__(reason)
        self.status, self.unanswered = status, unanswered


class PrivateAddress(FetchFailed):
    """The address is loopback, the LAN, link-local or the like: never called for another server."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connections to public addresses only (unless `allow_private`), to an address checked here."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError(f"{host}: {error}") from error
        addresses = [info[4][0] for info in found]
        if not self.allow_private and any(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
            # Not an httpcore error: httpx passes it on as it is, and no retry is made of it.
            raise PrivateAddress(f"{host} is a private address")
        for address in addresses[:-1]:  # each checked address in turn (an IPv6 one may not route)
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError:
                continue
        return await self.inner.connect_tcp(addresses[-1], port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def make_client(app: Quart) -> httpx.AsyncClient:
    context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or certifi.where())
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(  # httpx has no setting for the network backend
        ssl_context=context, max_connections=20, keepalive_expiry=30,
        network_backend=GuardedBackend(app.config["FEDERATION_ALLOW_PRIVATE_ADDRESSES"]))
    return httpx.AsyncClient(transport=transport, timeout=app.config["FEDERATION_TIMEOUT"],
                             follow_redirects=False, headers={"User-Agent": USER_AGENT.format(app.config.get("BASE_URL") or "")})


def client() -> httpx.AsyncClient:
    found = current_app.extensions.get("federation_http")
    if found is None:  # outside a served app (a command, a test): one for this app
        found = current_app.extensions["federation_http"] = make_client(current_app)
    return found


def public_url(url: str) -> str:
    """`url` if it is an https (or, allowing private addresses, http) address, else FetchFailed."""
    scheme = url.split(":", 1)[0].lower()
    if scheme != "https" and not (scheme == "http" and current_app.config["FEDERATION_ALLOW_PRIVATE_ADDRESSES"]):
        raise FetchFailed(f"not an https address: {url[:200]}")
    return url


async def signed_get(url: str, key_id: str, private_key_pem: str) -> dict:
    """The ActivityStreams document at `url`, asked for with a signature (servers in "authorized
    fetch" mode answer only those)."""
    headers = {"Accept": ACCEPT}
    headers.update(sign("GET", public_url(url), headers, None, key_id, private_key_pem))
    return json_object(url, await get(url, headers, MAX_DOCUMENT))


def json_object(url: str, body: bytes) -> dict:
    """`body` read as a JSON object, else FetchFailed."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise FetchFailed(f"{url[:200]} is not JSON") from error
    if not isinstance(document, dict):
        raise FetchFailed(f"{url[:200]} is not a JSON object")
    return document


async def get(url: str, headers: dict, limit: int) -> bytes:
    """The body of `url` (any https address, checked as every address is), if it answers 200
    within `limit` bytes and FEDERATION_TIMEOUT seconds in all (httpx's timeout is per step: a
    server dripping a byte at a time would hold the worker for ever); FetchFailed otherwise."""
    public_url(url)
    try:
        async with asyncio.timeout(current_app.config["FEDERATION_TIMEOUT"]), \
                client().stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                raise FetchFailed(f"{url[:200]} answered {response.status_code}", response.status_code)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchFailed(f"{url[:200]} is larger than {limit} bytes")
    except (httpx.HTTPError, TimeoutError) as error:
        raise FetchFailed(f"{url[:200]}: {error or type(error).__name__}", unanswered=True) from error
    return bytes(body)


async def signed_post(url: str, activity: dict, key_id: str, private_key_pem: str) -> httpx.Response:
    """Deliver `activity` to an inbox, signed as Mastodon signs. Only the answer's status and
    headers are read, within FEDERATION_TIMEOUT seconds in all: whatever body an inbox sends
    back is left unread, however large or slow."""
    body = json.dumps(activity).encode()
    headers = {"Content-Type": ACTIVITY_JSON, "Accept": ACCEPT}
    headers.update(sign("POST", public_url(url), headers, body, key_id, private_key_pem))
    try:
        async with asyncio.timeout(current_app.config["FEDERATION_TIMEOUT"]), \
                client().stream("POST", url, content=body, headers=headers) as response:
            return response
    except TimeoutError as error:
        raise httpx.TimeoutException(f"{url[:200]} took longer than the timeout in all") from error


def init_app(app: Quart) -> None:
    app.config.setdefault("FEDERATION_ALLOW_PRIVATE_ADDRESSES", False)
    app.config.setdefault("FEDERATION_TIMEOUT", 10.0)

    @app.after_serving
    async def _close_client() -> None:
        found = app.extensions.pop("federation_http", None)
        if found is not None:
            await found.aclose()
