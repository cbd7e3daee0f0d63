"""Odd and hostile input gets a clear answer, never a 500 (on SQLite and PostgreSQL)."""
import pytest
from sqlalchemy import select

from conftest import flashes, login, make_post, make_user, post, text_of
from microblog.accounts import User
from microblog.posts import Post


@pytest.fixture
async def alice_client(client, db):
    await make_user(db, "alice")
    assert (await login(client, "alice")).status_code == 303
    await client.get("/index")  # read the welcome flash
    return client


async def test_changing_the_password_logs_out_every_other_session(app, db, client):
    alice = await make_user(db, "alice")
    assert (await login(client, "alice", remember=True)).status_code == 303
    assert (await client.get("/index")).status_code == 200
    # The password changes elsewhere (a reset link, another device).
    async with app.app_context():
        await alice.set_password("a brand new password")
    await db.commit()
    response = await client.get("/index")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert (await login(client, "alice", "a brand new password")).status_code == 303


@pytest.mark.parametrize("url", ["/delete/2147483648", "/delete/99999999999999999999",
                                 "/post/2147483648/delete"])
async def test_huge_post_ids_are_not_found(alice_client, url):
    response = await post(alice_client, url)
    assert response.status_code == 404


async def test_control_characters_never_reach_the_database(alice_client, db):
    assert (await alice_client.get("/user/a%00b")).status_code == 404
    assert (await alice_client.get("/follow/a%00b")).status_code == 303  # "User … not found."

    response = await post(alice_client, "/post", {"post": "hello\x00 world\x07"})
    assert response.status_code == 303
    assert await db.scalar(select(Post.body)) == "hello world"

    response = await post(alice_client, "/auth/logout")
    response = await login(alice_client, "ali\x00ce", "wrong")
    assert response.status_code == 422


async def test_line_breaks_count_once_as_the_browser_counts_them(alice_client, db):
    body = "\r\n".join(["x" * 33] * 4) + "\r\n" + "y" * 3  # 139 characters in the browser
    response = await post(alice_client, "/post", {"post": body})
    assert response.status_code == 303
    assert await db.scalar(select(Post.body)) == body.replace("\r\n", "\n")


@pytest.mark.parametrize("nickname", [".", "..", "...", "_", "._"])
async def test_nicknames_need_a_letter_or_digit(client, db, nickname):
    response = await post(client, "/auth/register", {
        "nickname": nickname, "email": "dots@example.com", "password": "long enough", "password2": "long enough"})
    assert response.status_code == 422
    assert "Please use only letters, digits, dots and underscores." in await text_of(response)
    assert await db.scalar(select(User)) is None


async def test_old_login_link_passes_only_next(client):
    response = await client.get("/login?endpoint=x&_external=1&next=/explore")
    assert response.status_code == 301
    assert response.headers["Location"] == "/auth/login?next=/explore"


async def test_a_refused_form_still_shows_who_is_logged_in(alice_client):
    response = await alice_client.post("/edit_profile", form={"nickname": "x"})  # no CSRF token
    assert response.status_code == 400
    page = await text_of(response)
    assert "Log out" in page and "Log in" not in page


async def test_back_after_a_no_js_action_behind_a_tls_proxy(alice_client, db):
    await make_user(db, "bob")
    response = await post(alice_client, "/follow/bob", headers={"Referer": "https://localhost/explore"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/explore"
    assert flashes(await text_of(await alice_client.get("/explore"))) == ["You are now following bob!"]


async def test_deleting_uses_the_canonical_address(alice_client, db):
    alice = await db.scalar(select(User))
    mine = await make_post(db, alice, "mine")
    page = await text_of(await alice_client.get("/index"))
    assert f'action="/post/{mine.id}/delete"' in page


async def test_a_malformed_referer_is_ignored(alice_client, db):
    await make_user(db, "bob")
    response = await post(alice_client, "/follow/bob", headers={"Referer": "http://[::1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/user/bob"


async def test_addresses_that_grow_when_lowercased_are_a_form_error(client, db):
    email = "\u0130" * 100 + "@example.com"  # 112 characters; lower() makes it 212
    response = await post(client, "/auth/register", {
        "nickname": "carol", "email": email, "password": "long enough", "password2": "long enough"})
    assert response.status_code == 422
    response = await post(client, "/auth/reset_password_request", {"email": email})
    assert response.status_code in (303, 422)
