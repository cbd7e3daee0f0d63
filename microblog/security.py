"""CSRF protection, security headers and safe redirects."""
import hmac
import secrets
from urllib.parse import urlsplit

from quart import Quart, Response, request, session

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


def init_app(app: Quart) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    async def _csrf_protect() -> None:
        await check_csrf()

    @app.after_request
    async def _security_headers(response: Response) -> Response:
        img_sources = app.extensions.get("csp_img_sources", ())
        response.headers.setdefault("Content-Security-Policy", content_security_policy(img_sources))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
