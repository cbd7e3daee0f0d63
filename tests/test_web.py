"""Absolute links for mail: from BASE_URL, from the request, or from SERVER_NAME."""
from microblog import create_app
from microblog.web import external_url

from conftest import TEST_CONFIG


async def test_external_url_from_base_url_outside_a_request():
    app = create_app({**TEST_CONFIG, "BASE_URL": "https://example.org/microblog"})
    async with app.app_context():
        assert external_url("accounts.reset_password", token="t0k") == \
            "https://example.org/microblog/auth/reset_password/t0k"


async def test_external_url_from_base_url_ignores_the_request_prefix():
    app = create_app({**TEST_CONFIG, "BASE_URL": "https://example.org/microblog"})
    async with app.test_request_context("/auth/login", root_path="/microblog"):
        assert external_url("posts.explore") == "https://example.org/microblog/explore"


async def test_external_url_from_the_request_and_from_server_name():
    app = create_app(TEST_CONFIG)
    async with app.test_request_context("/", headers={"Host": "blog.example"}, scheme="https"):
        assert external_url("posts.explore") == "https://blog.example/explore"
    app = create_app({**TEST_CONFIG, "SERVER_NAME": "pi.local", "PREFER_SECURE_URLS": True})
    async with app.app_context():
        assert external_url("posts.explore") == "https://pi.local/explore"
