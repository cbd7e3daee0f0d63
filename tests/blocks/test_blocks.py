"""A person blocks someone here: with htmx (the block box, the follow box, the announcement) and
without JavaScript (a confirmation for the GET, then a flash); their posts leave the blocker's
explore, search and their profile; follows between them end both ways and neither can follow the
other while it stands; the settings page lists them; unblocking brings the posts back."""
import pytest
from sqlalchemy import select

from conftest import flashes, follow, make_post, post, text_of
from helpers import HTMX, alice_client, assert_varies, page_of, post_ids, visible  # noqa: F401 (alice_client: the fixture)
from microblog.accounts import User
from microblog.blocks.models import account_blocks
from test_statements import statements_of


@pytest.fixture
async def carols_posts(db, alice, bob):
    """bob's post, and alice and bob following each other."""
    await follow(db, alice, bob)
    await follow(db, bob, alice)
    return await make_post(db, bob, "Crumpets for everyone")


async def follow_pairs(db) -> set[tuple[int, int]]:
    from microblog.follows.models import followers
    return {tuple(row) for row in await db.execute(select(followers.c.follower_id, followers.c.followed_id))}


async def test_blocking_without_javascript_asks_first_then_hides_and_parts_them(db, alice_client, alice, bob, carols_posts):
    crumpets = carols_posts
    assert crumpets.id in post_ids(await page_of(alice_client, "/explore"))
    asked = await page_of(alice_client, "/user/bob/block")  # the GET: a question, nothing done
    assert "Do you want to block bob?" in asked
    assert await db.scalar(select(account_blocks.c.blocker_id)) is None

    done = await post(alice_client, "/user/bob/block", headers={"Referer": "http://localhost/user/bob"})
    assert done.status_code == 303 and done.headers["Location"] == "/user/bob"
    profile = await page_of(alice_client, "/user/bob")
    assert "You have blocked bob." in flashes(profile)
    assert "Unblock" in visible(profile) and "Blocked: their posts are hidden from you" in profile
    assert post_ids(profile) == []
    assert crumpets.id not in post_ids(await page_of(alice_client, "/explore"))
    assert crumpets.id not in post_ids(await page_of(alice_client, "/search?q=crumpets"))
    assert crumpets.id in post_ids(await page_of(alice_client.app.test_client(), "/explore"))  # others still see it
    assert await follow_pairs(db) == set()

    refused = await post(alice_client, "/user/bob/follow")
    assert refused.status_code == 303
    assert "You have blocked bob. Unblock them first to follow them." in flashes(
        await page_of(alice_client, refused.headers["Location"]))
    bobs = alice_client.app.test_client()
    await post(bobs, "/auth/login", {"nickname": "bob", "password": "correct horse"})
    refused = await post(bobs, "/user/alice/follow", htmx=True)
    assert refused.status_code == 403 and "You cannot follow alice: they have blocked you." in await text_of(refused)
    assert await follow_pairs(db) == set()

    settings = await page_of(alice_client, "/settings/blocks")
    assert "@bob" in settings and "You hide no server." in settings
    assert "/settings/blocks" in await page_of(alice_client, "/edit_profile")
    await post(alice_client, "/user/bob/unblock", headers={"Referer": "http://localhost/settings/blocks"})
    assert "You block no one." in await page_of(alice_client, "/settings/blocks")
    assert crumpets.id in post_ids(await page_of(alice_client, "/explore"))
    alice_row = await db.get(User, alice.id, populate_existing=True)
    assert alice_row.has_blocks is False  # nothing left to filter: her lists cost nothing again


async def test_blocking_with_htmx_swaps_the_boxes_and_twice_is_quiet(db, alice_client, alice, bob, carols_posts):
    response = await post(alice_client, "/user/bob/block", htmx=True)
    assert response.status_code == 200
    assert_varies(response)
    page = await text_of(response)
    assert 'class="block-box' in page and 'hx-post="/user/bob/unblock"' in page
    assert 'hx-target="#follow-box-' in page and ">Follow<" in page  # the follow ended: Follow again
    assert "You have blocked bob." in page
    again = await post(alice_client, "/user/bob/block", htmx=True)  # a second click: a quiet success
    assert again.status_code == 200 and "You have blocked bob." in await text_of(again)
    assert len((await db.execute(select(account_blocks))).all()) == 1
    unblocked = await post(alice_client, "/user/bob/unblock", htmx=True)
    assert 'hx-post="/user/bob/block"' in await text_of(unblocked)
    assert (await post(alice_client, "/user/alice/block")).status_code == 303  # oneself: refused, said


async def test_pages_of_someone_who_blocks_cost_what_they_did(app, db, alice_client, alice, bob, carols_posts):
    """Lists carry the filter inside their one statement; the block box asks one more (profiles)."""
    carol = User(nickname="carol", email="carol@example.com", password_hash="x")
    db.add(carol)
    await db.commit()
    await post(alice_client, "/user/carol/block")
    for url, most in (("/index", 4), ("/explore", 4), ("/user/alice", 4), ("/search?q=crumpets", 3), ("/user/bob", 5)):
        await alice_client.get(url)
        statements = await statements_of(app, alice_client, url)
        assert len(statements) <= most, (url, statements)
