"""Static files fetched once per browser: every URL `url_for('static', ...)` builds carries the
file's fingerprint (`?v=<hash of its content>`), and an answer to a fingerprinted URL may be kept
for a year without asking again. A changed file gets a new URL, so nobody sees a stale one. Without
the fingerprint (an old page, a hand-typed URL) the browser keeps the file but asks first (ETag)."""
import hashlib
from pathlib import Path

from quart import Quart, Response, current_app, request, url_for

CACHED_FOR_A_YEAR = "public, max-age=31536000, immutable"
ASK_FIRST = "public, no-cache"


class Fingerprints:
    """The fingerprint of each static file, read once (on each use in debug, where files change)."""

    def __init__(self, folder: str, always_fresh: bool):
        self.folder, self.always_fresh = Path(folder).resolve(), always_fresh
        self.known: dict[str, str | None] = {}

    def of(self, filename: str) -> str | None:
        if self.always_fresh or filename not in self.known:
            path = (self.folder / filename).resolve()
            fingerprint = None
            if path.is_relative_to(self.folder) and path.is_file():
                fingerprint = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            self.known[filename] = fingerprint
        return self.known[filename]


def static_url(filename: str) -> str:
    """`url_for('static', filename=filename)`, fingerprint included, worked out once per file and
    address prefix (each page names five files; in debug, every time: files change)."""
    if current_app.debug:
        return url_for("static", filename=filename)
    known = current_app.extensions.setdefault("static_urls", {})
    key = (filename, request.root_path)
    if key not in known:
        known[key] = url_for("static", filename=filename)
    return known[key]


def init_app(app: Quart) -> None:
    fingerprints = Fingerprints(app.static_folder, always_fresh=app.debug)
    app.jinja_env.globals["static_url"] = static_url

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            if fingerprint := fingerprints.of(values["filename"]):
                values["v"] = fingerprint

    @app.after_request
    async def _static_caching(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            fresh = request.args.get("v") is not None and request.args.get("v") == fingerprints.of(filename)
            response.headers["Cache-Control"] = CACHED_FOR_A_YEAR if fresh else ASK_FIRST
            response.headers.pop("Expires", None)
        return response
