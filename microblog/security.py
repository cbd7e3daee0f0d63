"""CSRF protection, request limits, security and caching headers, safe redirects, and who the
client is."""
import hmac
import ipaddress
import re
import secrets
from urllib.parse import parse_qsl, urlsplit

from quart import Quart, Response, abort, current_app, request, session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# data: images are Bootstrap's own icons (close buttons, the navbar toggler, checkboxes).
IMG_SRC = ("'self'", "data:")


def content_security_policy(more_img_sources=()) -> str:
    img_src = " ".join((*IMG_SRC, *more_img_sources))
    return ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; "
            f"frame-ancestors 'none'; img-src {img_src}; form-action 'self'")


def allow_images_from(app: Quart, source: str) -> None:
    """Let pages show images from `source` too (a feature that links to pictures elsewhere)."""
    sources = app.extensions.setdefault("csp_img_sources", [])
    if source not in sources:
        sources.append(source)


def csrf_token() -> str:
    """The token of this browser session (forms carry it in a field, htmx in a header)."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


class CSRFError(Exception):
    pass


async def check_body() -> None:
    """The site has no uploads: a body over MAX_CONTENT_LENGTH is refused (413) before anything
    reads it, and a form that is not valid UTF-8 is a bad request (400), not a CSRF failure."""
    if request.method not in UNSAFE_METHODS:
        return
    if (request.content_length or 0) > current_app.config["MAX_CONTENT_LENGTH"]:
        abort(413)
    if request.mimetype == "application/x-www-form-urlencoded":
        body = await request.get_data(as_text=False)  # a chunked body over the limit raises 413
        try:
            parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError):
            abort(400)


def csrf_exempt(view):
    """A view that no browser form posts to and that checks its own proof of who sent it (an
    inbox: HTTP signatures; no cookie counts there)."""
    view.csrf_exempt = True
    return view


async def check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    if request.routing_exception is not None:
        return  # no such page or method: nothing will change, let the 404 or 405 speak
    if getattr(current_app.view_functions.get(request.endpoint), "csrf_exempt", False):
        return
    expected = session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        sent = (await request.form).get(CSRF_FIELD)
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise CSRFError()


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path inside this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in target):
        return None  # browsers drop tabs and newlines: "/\t/evil.example" would become "//evil.example"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


VALID_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?)(:[0-9]{1,5})?")


class RejectBadHost:
    """ASGI middleware: a Host header that is no host name (a 64-character label, "a..b",
    "[::1") is a 400 before the framework builds URLs from it (where it would be a 500)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host")
            if host is not None and not (len(host) <= 260 and VALID_HOST.fullmatch(host.decode("latin-1"))):
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": b"Bad request: invalid Host header.\n"})
                return
        await self.app(scope, receive, send)
def client_address() -> str:
    """The address of the client, for limits per client. The socket's peer; behind
    TRUSTED_PROXIES reverse proxies, the address the outermost of them saw: X-Forwarded-For
    read from the right, where each of our proxies appended the address it was sent from
    (entries further left came from the client and prove nothing)."""
    address = request.remote_addr or ""
    trusted = current_app.config.get("TRUSTED_PROXIES", 0)
    if trusted > 0:
        forwarded = [part.strip() for header in request.headers.getlist("X-Forwarded-For")
                     for part in header.split(",")]
        if len(forwarded) >= trusted:
            # Only IP addresses: anything else ("unknown", junk a client slipped past a proxy)
            # would be a fresh key for every limit per client. The next hop inward is the
            # address of a proxy of ours, which counts instead; else the socket's.
            hops = [ip for ip in map(ip_or_none, forwarded[-trusted:]) if ip is not None]
            if hops:
                address = hops[0]
    return address[:100]


def ip_or_none(value: str) -> str | None:
    """`value` as an IP address (written the usual way), or None if it is not one."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def init_app(app: Quart) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.asgi_app = RejectBadHost(app.asgi_app)

    @app.before_request
    async def _check_request() -> None:
        await check_body()
        await check_csrf()

    @app.after_request
    async def _security_headers(response: Response) -> Response:
        img_sources = app.extensions.get("csp_img_sources", ())
        response.headers.setdefault("Content-Security-Policy", content_security_policy(img_sources))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["HSTS_SECONDS"]:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}")
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            # Every page carries its browser's CSRF token, and many show who is logged in: no
            # shared cache may keep it, and no cache may hand it to another cookie. (Answers that
            # are the same for everyone, like avatars, say so themselves.)
            response.vary.add("Cookie")
            response.headers["Cache-Control"] = "private, no-store"
        return response
