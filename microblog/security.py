"""CSRF protection, security headers, safe redirects and who the client is."""
import hmac
import secrets
from urllib.parse import urlsplit

from quart import Quart, Response, current_app, request, session

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; img-src 'self' https://www.gravatar.com data:; form-action 'self'"
)


def csrf_token() -> str:
    """The token of this browser session (forms carry it in a field, htmx in a header)."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


class CSRFError(Exception):
    pass


async def check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
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
        if len(forwarded) >= trusted and forwarded[-trusted]:
            address = forwarded[-trusted]
    return address[:100]


def init_app(app: Quart) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    async def _csrf_protect() -> None:
        await check_csrf()

    @app.after_request
    async def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
