"""Reading posts: Explore for everyone, the home timeline (own and followed posts) for a user."""
import re
from datetime import datetime, timezone

import pytest

from conftest import follow, make_post, make_user
from helpers import page_of, title, visible
from htmltree import parse
from helpers import alice_client  # noqa: F401 (the fixture: logged in, welcome message read)


@pytest.mark.parametrize("htmx", [False, True])
async def test_explore_is_readable_by_visitors(client, db, alice, bob, htmx):
    await make_post(db, alice, "hello from alice", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    await make_post(db, bob, "hello from bob", datetime(2024, 1, 2, 3, 5, 5, tzinfo=timezone.utc))
    page = await page_of(client, "/explore", htmx=htmx)
    assert title(page) == "Explore - microblog"
    text = visible(page)
    assert re.search(r"bob @bob · \d years ago hello from bob", text)
    times = [(t["datetime"], t["title"]) for t in parse(page).find_all("time")]
    assert times == [("2024-01-02T03:05:05+00:00", "Jan 2, 2024, 3:05:05\u202fAM (UTC)"),
                     ("2024-01-02T03:04:05+00:00", "Jan 2, 2024, 3:04:05\u202fAM (UTC)")]
    assert text.index("hello from bob") < text.index("hello from alice")  # newest first
    assert 'id="post-form"' not in page
    assert "/delete/" not in page  # nobody's delete buttons
    assert 'href="/auth/login"' in page


# --- home -------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/index"])
@pytest.mark.parametrize("htmx", [False, True])
async def test_home_shows_own_and_followed_posts(app, db, alice_client, alice, bob, url, htmx):
    carol = await make_user(db, "carol")
    await follow(db, alice, bob)
    await make_post(db, alice, "mine")
    await make_post(db, bob, "followed")
    await make_post(db, carol, "stranger")
    page = await page_of(alice_client, url, htmx=htmx)
    assert title(page) == "Home - microblog"
    text = visible(page)
    assert "Hi, alice!" in text
    assert 'id="post-form"' in page
    assert "bob @bob ·" in text and "followed" in text
    assert "alice @alice ·" in text and "mine" in text
    assert "stranger" not in text
    assert text.index("followed") < text.index("mine")


async def test_empty_timeline_says_what_to_do(alice_client):
    page = await page_of(alice_client, "/index")
    assert "No posts yet. Write one, or follow people from Explore." in visible(page)


async def test_own_posts_have_a_delete_button_others_do_not(db, alice_client, alice, bob):
    mine = await make_post(db, alice, "mine")
    theirs = await make_post(db, bob, "theirs")
    page = await page_of(alice_client, "/explore")
    assert f'action="/post/{mine.id}/delete"' in page
    assert f'action="/post/{theirs.id}/delete"' not in page
