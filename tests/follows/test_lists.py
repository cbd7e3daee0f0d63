"""The followers and following lists, for visitors and with the viewer's own buttons."""
import pytest

from conftest import follow, make_user
from helpers import page_of, title, user_rows, visible
from helpers import alice_client  # noqa: F401 (the fixture: logged in, welcome message read)


@pytest.mark.parametrize("htmx", [False, True])
async def test_followers_and_following_lists(app, db, client, alice, bob, htmx):
    carol = await make_user(db, "carol")
    await follow(db, alice, bob)
    await follow(db, carol, bob)
    await follow(db, bob, carol)

    page = await page_of(client, "/user/bob/followers", htmx=htmx)
    assert title(page) == "Followers of bob - microblog"
    rows = user_rows(page)
    assert rows == ["carol", "alice"]  # latest first
    assert "Back to bob" in visible(page)
    assert page.count("Log in to follow") == 2

    page = await page_of(client, "/user/bob/following", htmx=htmx)
    assert title(page) == "Followed by bob - microblog"
    assert user_rows(page) == ["carol"]
    assert "1 follower" in visible(page)  # carol's follower count

    page = await page_of(client, "/user/alice/followers", htmx=htmx)
    assert "Nobody yet." in visible(page)


async def test_user_lists_show_the_viewers_buttons(app, db, alice_client, alice, bob):
    carol = await make_user(db, "carol")
    await follow(db, bob, alice)
    await follow(db, carol, alice)
    await follow(db, alice, carol)
    page = await page_of(alice_client, "/user/alice/followers")
    assert 'action="/user/carol/unfollow"' in page  # alice follows carol
    assert 'action="/user/bob/follow"' in page  # but not bob
    page = await page_of(alice_client, "/user/carol/followers")
    assert "/user/alice/follow\"" not in page and "/user/alice/unfollow\"" not in page  # no button for oneself
