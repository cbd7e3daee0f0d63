"""The favicon and the web app manifest: no 404 for /favicon.ico, and a site a phone can put on
its home screen, with its icons under the site's address prefix."""
import pytest

from helpers import page_of, parse
from microblog import create_app


async def test_the_favicon_is_served(client):
    response = await client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert (await response.get_data()).startswith(b"\x89PNG")


async def test_every_page_links_its_icons_and_manifest(client):
    head = parse(await page_of(client, "/explore")).find("head")
    links = {link["rel"]: link["href"] for link in head.find_all("link")}
    assert links["manifest"] == "/manifest.webmanifest"
    assert links["icon"].startswith("/static/icons/") and links["apple-touch-icon"].startswith("/static/icons/")
    for href in (links["icon"], links["apple-touch-icon"]):
        assert (await client.get(href)).status_code == 200


@pytest.mark.parametrize("prefix", ["", "microblog"])
async def test_the_manifest_names_the_site_and_its_icons(app_config, prefix):
    app = create_app({**app_config, "URL_PREFIX": prefix})
    client = app.test_client()
    root = f"/{prefix}" if prefix else ""
    response = await client.get(f"{root}/manifest.webmanifest")  # as the proxy passes it on
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = await response.get_json()
    assert manifest["name"] == "microblog" and manifest["display"] == "standalone"
    assert manifest["start_url"] == f"{root}/index" and manifest["scope"] == f"{root}/"
    sizes = {icon["sizes"]: icon["src"] for icon in manifest["icons"]}
    assert set(sizes) == {"192x192", "512x512"}
    for src in sizes.values():
        assert src.startswith(f"{root}/static/icons/icon-")
        icon = await client.get(src)
        assert icon.status_code == 200 and (await icon.get_data()).startswith(b"\x89PNG")
