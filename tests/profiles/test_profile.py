"""The profile page: readable by visitors, found whatever the case, a 404 page for nobody."""
import pytest

from conftest import follow, make_post, text_of
from helpers import HTMX, assert_varies, link_href, login_next, page_of, title, visible


@pytest.mark.parametrize("htmx", [False, True])
async def test_profile_is_readable_by_visitors(client, db, alice, bob, htmx):
    await follow(db, alice, bob)
    await make_post(db, bob, "bob writes")
    await make_post(db, alice, "alice writes")
    page = await page_of(client, "/user/bob", htmx=htmx)
    assert title(page) == "bob - microblog"
    assert "bob writes" in page and "alice writes" not in page
    assert "1 follower" in visible(page)
    assert "Log in to follow" in page
    link = link_href(page, "Log in to follow")
    assert login_next(link) == "/user/bob"
    assert "/user/bob/follow\"" not in page and "/user/bob/unfollow\"" not in page  # no button, no form
    assert "Edit your profile" not in page


async def test_profile_lookup_ignores_case(client, db, bob):
    page = await page_of(client, "/user/BOB")
    assert title(page) == "bob - microblog"


@pytest.mark.parametrize("url", ["/user/nobody", "/user/nobody/followers", "/user/nobody/following",
                                 "/no/such/page"])
async def test_unknown_profile_is_a_404_page(client, url):
    response = await client.get(url)
    assert response.status_code == 404
    page = await text_of(response)
    assert title(page) == "Page not found - microblog"
    assert "Sorry, that page does not exist." in page

    response = await client.get(url, headers=HTMX)
    assert response.status_code == 404
    assert_varies(response)
    fragment = await text_of(response)
    assert "Sorry, that page does not exist." in fragment
    assert "<html" not in fragment
    assert "<p data-message>" in await text_of(response)  # the message app.js shows by the button
