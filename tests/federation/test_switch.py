"""Federation is on when BASE_URL is https (FEDERATION=1 or 0 decides otherwise): off, the site
answers nothing of it, queues nothing and shows no handle to type elsewhere."""
import pytest

from conftest import make_post, make_user
from microblog import create_app


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "BASE_URL": "http://localhost", "FEDERATION": None}


async def test_off_on_plain_http(app, client, db, caplog):
    assert app.config["FEDERATION"] is False
    alice = await make_user(db, "alice")
    await make_post(db, alice, "hello")
    for url in ("/.well-known/webfinger?resource=acct:alice@localhost", "/.well-known/nodeinfo",
                f"/users/{alice.id}", "/actor"):
        assert (await client.get(url, headers={"Accept": "application/activity+json"})).status_code == 404, url
    inbox = await client.post("/inbox", data=b"{}", headers={"Content-Type": "application/activity+json"})
    assert inbox.status_code == 404
    profile = await client.get("/user/alice", headers={"Accept": "application/activity+json"})
    page = await profile.get_data(as_text=True)
    assert profile.content_type.startswith("text/html") and "@alice@" not in page and "@alice" in page


@pytest.mark.parametrize("base_url, setting, on", [
    ("https://example.org", None, True), ("https://example.org", False, False),
    ("http://localhost:5000", None, False), ("http://localhost:5000", True, True)])
def test_the_switch(app_config, base_url, setting, on):
    assert create_app({**app_config, "BASE_URL": base_url, "FEDERATION": setting}).config["FEDERATION"] is on
