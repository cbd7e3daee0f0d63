"""The site's icons and its web app manifest: a favicon at /favicon.ico (browsers ask for it
whatever the page says), and a manifest that lets a phone put the site on its home screen."""
from quart import Blueprint, current_app, jsonify, url_for

bp = Blueprint("icons", __name__)
THEME = "#0d6efd"  # the icons' blue (static/icons/icon.svg)


@bp.route("/favicon.ico")
async def favicon():
    response = await current_app.send_static_file("icons/favicon-32.png")
    response.cache_control.public, response.cache_control.max_age = True, 7 * 24 * 3600
    return response


@bp.route("/manifest.webmanifest")
async def manifest():
    """Names and icons for "Add to home screen"; addresses under the site's prefix."""
    response = jsonify({
        "name": "microblog", "short_name": "microblog",
        "start_url": url_for("posts.index"), "scope": url_for("posts.index").rsplit("/", 1)[0] + "/",
        "display": "standalone", "theme_color": THEME, "background_color": "#ffffff",
        "icons": [{"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
                   "type": "image/png"} for size in (192, 512)],
    })
    response.mimetype = "application/manifest+json"
    return response
