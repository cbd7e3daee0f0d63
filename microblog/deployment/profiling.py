"""PROFILE=1: every request slower than PROFILE_SECONDS leaves a pyinstrument profile (HTML, open it
in a browser) in PROFILE_DIR (instance/profiles), named by time, duration, method and route. Off by
default: sampling slows every request (on 2 cores, 300 requests 10 at a time took about 2x as
long), and pyinstrument is only imported when it is on."""
import asyncio
import re
import time
from datetime import datetime, timezone
from pathlib import Path

from quart import Quart, g, request

PROFILE_INTERVAL = 0.005  # seconds between samples: 100 or more for a request worth a look


def profile_name(seconds: float, method: str, route: str) -> str:
    """E.g. 20261125-021503.123456-812ms-GET-user-nickname.html: no values from the URL (a reset
    token is a password), only the route's pattern."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S.%f")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", route).strip("-") or "root"
    return f"{stamp}-{round(seconds * 1000)}ms-{method}-{slug[:80]}.html"


def init_app(app: Quart) -> None:
    if not app.config.get("PROFILE"):
        return
    from pyinstrument import Profiler

    folder = Path(app.config.get("PROFILE_DIR") or Path(app.instance_path) / "profiles")
    folder.mkdir(parents=True, exist_ok=True)
    threshold = float(app.config.get("PROFILE_SECONDS", 0.5))

    async def _start() -> None:
        # async_mode "enabled": only this request's task is sampled, not the others it waits beside.
        g.microblog_profiler = Profiler(interval=PROFILE_INTERVAL, async_mode="enabled")
        route = request.url_rule.rule if request.url_rule is not None else "no-route"
        g.microblog_profiler.start(target_description=f"{request.method} {route}")  # named in the profile
        g.microblog_profile_started = time.perf_counter()

    app.before_request_funcs.setdefault(None, []).insert(0, _start)  # before every other check

    @app.teardown_request
    async def _stop(_error=None) -> None:
        profiler = g.pop("microblog_profiler", None)
        if profiler is None or not profiler.is_running:
            return
        profiler.stop()
        elapsed = time.perf_counter() - g.pop("microblog_profile_started")
        if elapsed < threshold:
            return
        route = request.url_rule.rule if request.url_rule is not None else "no-route"
        html = profiler.output_html()
        await asyncio.to_thread((folder / profile_name(elapsed, request.method, route)).write_text, html)
