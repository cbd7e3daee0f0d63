"""Served under /microblog behind a trusted proxy: a user registers, posts, follows, reads the next
page and deletes a post, with and without htmx, and every URL the site hands out stays under the
prefix (links, redirects, static files, htmx URLs, form actions, cursor links)."""
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from conftest import make_post, make_user, post, text_of
from helpers import HTMX, flashes, form_action, older_link, parse, post_ids, sentinel, visible
from microblog.deployment.proxy import BehindProxy
from microblog.posts import Post

PREFIX = "/microblog"
URL_ATTRIBUTES = ("href", "src", "action", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "URL_PREFIX": "microblog/", "TRUSTED_PROXIES": 1, "BASE_URL": "http://localhost/microblog",
            "FEDERATION": True}


def urls_in(page: str) -> list[str]:
    return [e.get(name) for e in parse(page).iter() for name in URL_ATTRIBUTES if e.get(name) is not None]


def assert_under_prefix(page: str) -> None:
    urls = [url for url in urls_in(page) if not url.startswith("#")]
    assert urls, "no URLs at all"
    outside = [url for url in urls if not url.startswith(PREFIX + "/")]
    assert not outside, outside


async def get_page(client, url: str, htmx: bool = False) -> str:
    assert url.startswith(PREFIX + "/"), url
    response = await client.get(url, headers=HTMX if htmx else {})
    assert response.status_code == 200, url
    page = await text_of(response)
    assert_under_prefix(page)
    return page


def redirect_target(response) -> str:
    assert response.status_code in (302, 303), response.status_code
    location = response.headers["Location"]
    assert location.startswith(PREFIX + "/"), location
    return location


@pytest.mark.parametrize("htmx", [False, True])
async def test_a_user_walks_the_site_under_the_prefix(client, db, htmx):
    bob = await make_user(db, "bob")
    for n in range(4):
        await make_post(db, bob, f"bob says {n}")

    # Not logged in: the login page, and back to where one was going afterwards.
    location = redirect_target(await client.get(PREFIX + "/"))
    assert parse_qs(urlsplit(location).query)["next"] == [PREFIX + "/"]

    login_page = await get_page(client, location)
    register_page = await get_page(client, next(
        e["href"] for e in parse(login_page).find_all("a") if "register" in e["href"]))
    action = form_action(register_page, "nickname")
    response = await post(client, action, {"nickname": "alice", "email": "alice@example.com",
                                           "password": "correct horse battery", "password2": "correct horse battery"})
    login_page = await get_page(client, redirect_target(response))
    response = await post(client, form_action(login_page, "nickname"),
                          {"nickname": "alice", "password": "correct horse battery"})
    home = await get_page(client, redirect_target(response))
    assert flashes(home) == ["Welcome, alice!"] or "alice" in visible(home)

    # Post: the form's action without JavaScript, its hx-post with htmx.
    form = next(f for f in parse(home).find_all("form") if f.get("id") == "post-form")
    if htmx:
        response = await post(client, form["hx-post"], {"post": "hello from under a prefix"}, htmx=True)
        assert response.status_code == 200
        assert_under_prefix(await text_of(response))
    else:
        response = await post(client, form["action"], {"post": "hello from under a prefix"})
        home = await get_page(client, redirect_target(response))
        assert "hello from under a prefix" in visible(home)

    # Follow bob from his profile page.
    profile = await get_page(client, PREFIX + "/user/bob")
    follow_form = next(f for f in parse(profile).find_all("form") if "/follow" in f.get("action", ""))
    if htmx:
        response = await post(client, follow_form["hx-post"], htmx=True)
        assert response.status_code == 200
        assert_under_prefix(await text_of(response))
    else:
        redirect_target(await post(client, follow_form["action"]))

    # The timeline has bob's posts and alice's: the next page, by link and by infinite scroll.
    home = await get_page(client, PREFIX + "/index")
    first = post_ids(home)
    assert len(first) == 3
    second = await get_page(client, older_link(home))
    scrolled = await get_page(client, sentinel(home), htmx=True)
    assert post_ids(second) == post_ids(scrolled)
    assert set(first).isdisjoint(post_ids(second)) and post_ids(second)

    # Delete alice's own post.
    mine = await db.scalar(select(Post).where(Post.body == "hello from under a prefix"))
    delete_form = parse(await get_page(client, f"{PREFIX}/user/alice")).find("article", id=f"post-{mine.id}").find("form")
    if htmx:
        response = await post(client, delete_form["hx-post"], htmx=True)
        assert response.status_code == 200
    else:
        redirect_target(await post(client, delete_form["action"]))
    assert await db.scalar(select(Post.id).where(Post.id == mine.id)) is None


async def test_static_files_and_the_bare_prefix(client, db):
    await make_user(db, "bob")
    profile = await get_page(client, PREFIX + "/user/bob")  # logged out: "Log in to follow"
    login_link = next(e["href"] for e in parse(profile).find_all("a") if "/auth/login?next=" in e["href"])
    assert parse_qs(urlsplit(login_link).query)["next"] == [PREFIX + "/user/bob"]
    page = await get_page(client, PREFIX + "/auth/login")
    stylesheets = [e["href"] for e in parse(page).find_all("link") if e.get("rel") == "stylesheet"]
    assert stylesheets
    for url in stylesheets:
        assert (await client.get(url)).status_code == 200, url
    response = await client.get(PREFIX + "?x=1")
    assert response.status_code == 308
    assert response.headers["Location"] == PREFIX + "/?x=1"
    assert (await client.get("/auth/login")).status_code == 404  # only under the prefix


@pytest.mark.parametrize("trusted, sent, seen", [
    (True, [b"https"], "https"),
    (True, [b"http, https"], "https"),  # the last one is our proxy's
    (True, [b"javascript"], "http"),
    (False, [b"https"], "http"),  # no proxy is trusted: anyone could send it
])
async def test_forwarded_scheme_only_from_a_trusted_proxy(trusted, sent, seen):
    scopes = []

    async def app(scope, receive, send):
        scopes.append(scope)

    headers = [(b"x-forwarded-proto", value) for value in sent]
    scope = {"type": "http", "scheme": "http", "path": "/microblog/", "root_path": "", "headers": headers}
    await BehindProxy(app, "/microblog", trusted)(scope, None, None)
    assert scopes[0]["scheme"] == seen
    assert scopes[0]["root_path"] == "/microblog"


async def test_webfinger_and_nodeinfo_answer_at_the_hosts_root(client, db):
    """Other servers ask https://host/.well-known/webfinger whatever path the site is under."""
    alice = await make_user(db, "alice")
    response = await client.get("/.well-known/webfinger?resource=acct:alice@localhost")
    assert response.status_code == 200
    found = (await response.get_json())
    assert found["links"][0]["href"] == f"http://localhost{PREFIX}/users/{alice.id}"
    links = (await (await client.get("/.well-known/nodeinfo")).get_json())["links"]
    assert links[0]["href"] == f"http://localhost{PREFIX}/nodeinfo/2.0"
    assert (await client.get(f"{PREFIX}/nodeinfo/2.0")).status_code == 200
    assert (await client.get("/users/1")).status_code == 404  # the rest stays under the prefix
