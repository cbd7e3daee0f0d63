"""The site as a whole: old addresses, page titles, every route's status and Vary with and without
htmx, and the number of SQL statements a page costs."""
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from conftest import follow, login, make_post, make_user, post, text_of
from helpers import HTMX, assert_varies, page_of, title, visible
from helpers import alice_client  # noqa: F401 (the fixture: logged in, welcome message read)


# --- old addresses ----------------------------------------------------------------------------

@pytest.mark.parametrize("old, new", [
    ("/login", "/auth/login"),
    ("/login?next=/explore", "/auth/login?next=/explore"),
    ("/logout", "/auth/logout"),
    ("/edit", "/edit_profile"),
    ("/index/3", "/index"),
    ("/user/bob/2", "/user/bob"),
])
async def test_legacy_urls_redirect(client, old, new):
    response = await client.get(old)
    assert response.status_code == 301
    location = urlsplit(response.headers["Location"])
    expected = urlsplit(new)
    assert (location.path, parse_qs(location.query)) == (expected.path, parse_qs(expected.query))


async def test_legacy_logout_asks_then_post_logs_out(alice_client):
    response = await alice_client.get("/logout")
    page = await text_of(await alice_client.get(response.headers["Location"]))
    assert title(page) == "Log out - microblog"
    assert "Do you want to log out?" in visible(page)
    assert '<form method="post" action="/auth/logout">' in page
    assert (await alice_client.get("/index")).status_code == 200  # asking changed nothing
    response = await post(alice_client, "/auth/logout")
    assert response.status_code == 303
    assert (await alice_client.get("/index")).status_code == 302


# --- titles -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("/", "Home"),
    ("/index", "Home"),
    ("/explore", "Explore"),
    ("/user/bob", "bob"),
    ("/user/bob/followers", "Followers of bob"),
    ("/user/bob/following", "Followed by bob"),
    ("/edit_profile", "Edit Profile"),
    ("/follow/bob", "Follow bob"),
    ("/unfollow/bob", "Unfollow bob"),
])
async def test_page_titles(alice_client, bob, url, expected):
    assert title(await page_of(alice_client, url)) == f"{expected} - microblog"


# --- every route, with and without htmx: status and Vary --------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
async def test_every_route_answers_and_varies_on_htmx(db, alice_client, alice, bob, htmx):
    mine = await make_post(db, alice, "mine")
    headers = HTMX if htmx else {}
    gets = {
        "/": 200, "/index": 200, "/explore": 200, "/user/bob": 200, "/user/bob/followers": 200,
        "/user/bob/following": 200, "/follow/bob": 200, "/unfollow/bob": 200, f"/delete/{mine.id}": 200,
        "/edit_profile": 200, "/user/nobody": 404, "/explore?cursor=x": 200,
    }
    for url, status in gets.items():
        response = await alice_client.get(url, headers=headers)
        assert response.status_code == status, url
        assert_varies(response)
    posts = [
        ("/post", {"post": "one"}, 200 if htmx else 303),
        ("/", {"post": "two"}, 200 if htmx else 303),
        ("/index", {"post": "three"}, 200 if htmx else 303),
        ("/follow/bob", {}, 200 if htmx else 303),
        ("/unfollow/bob", {}, 200 if htmx else 303),
        (f"/delete/{mine.id}", {}, 200 if htmx else 303),
        ("/edit_profile", {"nickname": "alice", "about_me": ""}, 303),
    ]
    for url, data, status in posts:
        response = await post(alice_client, url, data, htmx=htmx)
        assert response.status_code == status, url
        assert_varies(response)


# --- number of SQL statements -----------------------------------------------------------------

class StatementCounter:
    def __init__(self, app):
        self.engine = app.extensions["db_engine"].sync_engine
        self.statements: list[str] = []

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    async def measure(self, client, url: str) -> int:
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._count)
        try:
            response = await client.get(url)
        finally:
            event.remove(self.engine, "before_cursor_execute", self._count)
        assert response.status_code == 200, url
        return len(self.statements)


async def test_statement_count_does_not_grow_with_posts_or_authors(app, db, client, alice):
    counter = StatementCounter(app)
    await login(client, "alice")
    await client.get("/explore")  # the first visit after login records last_seen: not what is measured here

    authors = [await make_user(db, f"author{i}") for i in range(6)]
    for author in authors:
        await follow(db, alice, author)
    await follow(db, alice, authors[0])
    await follow(db, authors[0], alice)

    urls = ["/explore", "/index", "/user/author0", "/user/alice", "/user/author0/followers",
            "/user/alice/following"]
    # One post by one author…
    await make_post(db, authors[0], "lonely post")
    few = {url: await counter.measure(client, url) for url in urls}
    # …then full pages of posts by many different authors.
    for i, author in enumerate(authors * 2):
        await make_post(db, author, f"post {i}")
    for i in range(5):
        await make_post(db, authors[0], f"more {i}")
    many = {url: await counter.measure(client, url) for url in urls}

    assert many == few, (few, many)
    for url, n in many.items():
        assert n <= 6, (url, n, counter.statements)

    # Visitors too.
    await post(client, "/auth/logout")
    for url in urls:
        if url in ("/index",):
            continue
        assert await counter.measure(client, url) <= 5, url
