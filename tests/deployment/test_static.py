"""Static files: a page names each by its content's fingerprint, and a browser keeps a
fingerprinted file for a year; without the fingerprint it keeps it but asks first (ETag → 304)."""
from urllib.parse import parse_qs, urlsplit

from conftest import text_of
from helpers import parse
from microblog.deployment.static import Fingerprints


async def static_urls(client) -> list[str]:
    page = parse(await text_of(await client.get("/auth/login")))
    return ([e["href"] for e in page.find_all("link") if e.get("rel") == "stylesheet"]
            + [e["src"] for e in page.find_all("script")])


async def test_pages_name_static_files_by_fingerprint_and_browsers_keep_them(client):
    urls = await static_urls(client)
    assert len(urls) >= 4
    for url in urls:
        assert len(parse_qs(urlsplit(url).query)["v"][0]) == 12, url
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_an_old_fingerprint_is_kept_but_asked_about(client):
    url = next(u for u in await static_urls(client) if "app.css" in u)
    stale = url.replace(parse_qs(urlsplit(url).query)["v"][0], "000000000000")
    response = await client.get(stale)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, no-cache"  # kept, but asked about first
    etag = response.headers["ETag"]
    again = await client.get(urlsplit(url).path, headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_the_fingerprint_follows_the_content(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("body { color: red }")
    (tmp_path / "secret.txt").write_text("not static")
    fingerprints = Fingerprints(str(tmp_path / "static"), always_fresh=True)
    before = fingerprints.of("site.css")
    (tmp_path / "static" / "site.css").write_text("body { color: blue }")
    assert fingerprints.of("site.css") not in (before, None)
    assert fingerprints.of("../secret.txt") is None  # outside the folder: no fingerprint, no read
    assert fingerprints.of("missing.css") is None
