"""Avatars: drawn and served by the site by default (no e-mail hash leaves it), cached for good;
Gravatar only when the site's owner turns it on."""
import hashlib
import re
from html import unescape
import xml.etree.ElementTree as ET

import pytest

from microblog import create_app
from microblog.accounts import User
from microblog.avatars import avatar_url
from microblog.avatars.identicon import GRID, MARGIN, identicon_cells, identicon_svg
from microblog.config import from_environment

from conftest import login, make_post, make_user, post, text_of

SVG = "{http://www.w3.org/2000/svg}"
ONE_YEAR = 365 * 24 * 3600


def directives(policy: str) -> dict[str, list[str]]:
    return {words[0]: words[1:] for part in policy.split(";") if (words := part.split())}


def email_hashes(email: str) -> list[str]:
    """What Gravatar (and anyone with a dictionary of addresses) can turn back into the address."""
    normal = email.strip().lower().encode()
    return [hashlib.md5(normal).hexdigest(), hashlib.sha256(normal).hexdigest()]


def avatar_urls(html: str) -> list[str]:
    return [unescape(url) for url in re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)]


@pytest.fixture
async def gravatar_app(app_config, app):
    """A second app on the same database, with AVATARS=gravatar."""
    other = create_app({**app_config, "AVATARS": "gravatar"})
    async with other.test_app():
        yield other


# --- the default: identicons from the site --------------------------------------------------

async def test_a_profile_sends_no_email_hash_anywhere(client, db, alice, bob):
    await make_post(db, alice, "hello from alice")
    response = await client.get("/user/alice")
    html = await text_of(response)
    assert response.status_code == 200
    assert "gravatar" not in html.lower()
    for hashed in email_hashes(alice.email) + email_hashes(bob.email):
        assert hashed not in html
    urls = avatar_urls(html)
    assert urls and all(re.fullmatch(rf"/avatar/{alice.id}\.svg\?v=\d+", url) for url in urls), urls


async def test_every_list_shows_site_avatars(alice_client, db, alice, bob):
    await make_post(db, bob, "bob speaks")
    await post(alice_client, f"/user/{bob.nickname}/follow")
    for url in ("/explore", "/user/bob", "/user/alice/following"):
        html = await text_of(await alice_client.get(url))
        assert "gravatar" not in html.lower(), url
        assert f"/avatar/{bob.id}.svg" in html, url


async def test_the_avatar_is_an_svg_drawn_for_the_user(client, alice, bob):
    first = await client.get(f"/avatar/{alice.id}.svg")
    again = await client.get(f"/avatar/{alice.id}.svg")
    other = await client.get(f"/avatar/{bob.id}.svg")
    for response in (first, again, other):
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await first.get_data() == await again.get_data()  # the same picture every time
    assert await first.get_data() != await other.get_data()  # another user, another picture
    assert first.headers["ETag"] == again.headers["ETag"] != other.headers["ETag"]
    # Nobody's picture for nobody.
    assert (await client.get(f"/avatar/{bob.id + 1000}.svg")).status_code == 404
    assert (await client.get("/avatar/alice.svg")).status_code == 404
    assert (await client.get("/avatar/2147483648.svg")).status_code == 404  # bigger than an INTEGER
    assert (await client.get(f"/avatar/{2**70}.svg")).status_code == 404


async def test_the_svg_holds_nothing_of_the_user_and_runs_nothing(client, db):
    user = await make_user(db, "Mallory_x", email="mallory@example.com")
    response = await client.get(f"/avatar/{user.id}.svg?v=1")
    svg = await text_of(response)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg"
    assert {element.tag for element in root.iter()} == {f"{SVG}svg", f"{SVG}rect", f"{SVG}path"}
    assert "mallory" not in svg.lower() and "example" not in svg
    assert not any(hashed in svg for hashed in email_hashes(user.email))
    assert not re.search(r"<script|\son\w+=|href|<text|<foreignObject", svg, re.I)
    # Opened on its own, as a document, it may run and load nothing.
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy
    assert "sandbox" in policy


async def test_the_avatar_is_cached_for_good(client, alice):
    url = f"/avatar/{alice.id}.svg?v=1"
    response = await client.get(url)
    cache = response.cache_control
    assert cache.public and cache.immutable and cache.max_age >= ONE_YEAR
    etag = response.headers["ETag"]
    assert re.fullmatch(r'"[^"]+"', etag)  # strong
    assert "Set-Cookie" not in response.headers  # nothing personal in a public answer

    unchanged = await client.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert await unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == etag
    assert unchanged.cache_control.immutable and unchanged.cache_control.max_age >= ONE_YEAR

    for copy in (f"W/{etag}", f'"other", {etag}', "*"):  # as caches and RFC 9110 may send it
        assert (await client.get(url, headers={"If-None-Match": copy})).status_code == 304, copy
    stale = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and await stale.get_data() == await response.get_data()


async def test_one_url_for_every_size_and_through_a_rename(alice_client, alice, app):
    async with app.test_request_context("/"):
        urls = {avatar_url(alice, size) for size in (36, 48, 128)}
    assert len(urls) == 1  # one SVG scales to all: one download per user
    response = await post(alice_client, "/edit_profile", {"nickname": "alicia", "about_me": ""})
    assert response.status_code == 303
    html = await text_of(await alice_client.get("/user/alicia"))
    assert urls.pop() in html  # the picture (and its cached copy) stays with the person


async def test_the_default_policy_allows_images_from_this_site_only(client, alice):
    response = await client.get("/user/alice")
    img_src = directives(response.headers["Content-Security-Policy"])["img-src"]
    # data: for Bootstrap's own icons (close buttons, the navbar toggler), which are data: SVGs.
    assert img_src == ["'self'", "data:"]


# --- Gravatar, when the site's owner turns it on ----------------------------------------------

async def test_gravatar_only_when_turned_on(client, gravatar_app, alice):
    default = await client.get("/user/alice")
    assert "gravatar" not in (await text_of(default)).lower()
    assert "https://www.gravatar.com" not in default.headers["Content-Security-Policy"]

    response = await gravatar_app.test_client().get("/user/alice")
    html = await text_of(response)
    digest = email_hashes(alice.email)[0]
    assert avatar_urls(html) == [f"https://www.gravatar.com/avatar/{digest}?d=identicon&s=128"]
    img_src = directives(response.headers["Content-Security-Policy"])["img-src"]
    assert "https://www.gravatar.com" in img_src and "'self'" in img_src

    john = User(id=7, nickname="john", email="John@Example.com")
    async with gravatar_app.test_request_context("/"):
        digest = hashlib.md5(b"john@example.com").hexdigest()
        assert digest == "d4c74594d841139328695756648b6bd6"
        assert avatar_url(john, 36) == f"https://www.gravatar.com/avatar/{digest}?d=identicon&s=36"


def test_the_setting_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROBLOG_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.delenv("AVATARS", raising=False)
    assert from_environment(str(tmp_path))["AVATARS"] == "identicon"
    monkeypatch.setenv("AVATARS", " Gravatar ")
    assert from_environment(str(tmp_path))["AVATARS"] == "gravatar"


def test_an_unknown_setting_stops_the_app(app_config):
    with pytest.raises(RuntimeError, match="AVATARS"):
        create_app({**app_config, "AVATARS": "robohash"})


# --- the picture -----------------------------------------------------------------------------

def test_identicons_are_mirrored_and_never_empty():
    for n in range(1, 500):
        cells = identicon_cells(f"microblog identicon {n}")
        assert cells
        assert all((GRID - 1 - column, row) in cells for column, row in cells)
        assert all(0 <= column < GRID and 0 <= row < GRID for column, row in cells)


def test_identicons_differ_from_user_to_user():
    pictures = {identicon_svg(f"microblog identicon {n}") for n in range(1, 500)}
    assert len(pictures) == 499
    shapes = {frozenset(identicon_cells(f"microblog identicon {n}")) for n in range(1, 500)}
    assert len(shapes) > 450  # 2**15 shapes: few people share one, and then not their colour


def test_the_picture_has_a_margin_and_a_size():
    root = ET.fromstring(identicon_svg("x", size=64))
    assert root.get("width") == root.get("height") == "64"  # an intrinsic size: naturalWidth > 0
    assert root.get("viewBox") == f"0 0 {GRID + 2 * MARGIN} {GRID + 2 * MARGIN}"


async def test_the_png_for_servers_elsewhere_is_the_same_picture_cached_for_good(client, alice):
    import struct
    response = await client.get(f"/avatar/{alice.id}.png")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    png = await response.get_data()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk: square, Mastodon's size or more
    assert width == height >= 120
    again = await client.get(f"/avatar/{alice.id}.png", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and await again.get_data() == b""
    assert (await client.get("/avatar/999999.png")).status_code == 404
    assert (await client.get(f"/avatar/999999/{'0' * 32}")).status_code == 404
