"""Pages behind login: visitors are sent to log in (htmx gets a 401 and HX-Redirect) and back afterwards."""
import pytest
from sqlalchemy import select

from conftest import flashes, make_post, post, text_of
from helpers import HTMX, assert_varies, count, form_action, login_next
from microblog.follows.models import followers
from microblog.posts import Post


async def test_login_required_redirects_back_after_login(client, alice):
    response = await client.get("/index?cursor=abc")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert login_next(location) == "/index?cursor=abc"
    page = await text_of(await client.get(location))
    assert "Please log in to access this page." in flashes(page)
    # The form posts back to the same address, so `next` survives the submit.
    action = form_action(page, "nickname")
    assert action == location
    response = await post(client, action, {"nickname": "alice", "password": "correct horse"})
    assert response.headers["Location"] == "/index?cursor=abc"


async def test_login_required_htmx_gets_401_with_hx_redirect(client):
    response = await client.get("/index", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert login_next(response.headers["HX-Redirect"]) == "/index"
    html = await text_of(response)
    assert "Please log in to access this page." in html
    assert "<html" not in html


@pytest.mark.parametrize("url", ["/", "/index", "/edit_profile", "/follow/bob", "/unfollow/bob", "/delete/1"])
async def test_pages_behind_login_send_visitors_to_log_in(client, bob, url):
    response = await client.get(url)
    assert response.status_code == 302
    assert login_next(response.headers["Location"]) == url
    assert_varies(response)  # the htmx answer differs: caches must keep them apart

    response = await client.get(url, headers={**HTMX, "HX-Current-URL": "http://localhost/user/bob"})
    assert response.status_code == 401
    assert login_next(response.headers["HX-Redirect"]) == "/user/bob"  # the page, not the action
    assert_varies(response)
    fragment = await text_of(response)
    assert "Please log in to access this page." in fragment
    assert "<html" not in fragment


async def test_login_redirect_then_back(client, alice):
    response = await client.get("/index")
    page = await text_of(await client.get(response.headers["Location"]))
    assert "Please log in to access this page." in flashes(page)
    response = await post(client, response.headers["Location"], {"nickname": "alice", "password": "correct horse"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"


@pytest.mark.parametrize("url", ["/post", "/", "/index", "/follow/bob", "/unfollow/bob", "/delete/1", "/edit_profile"])
async def test_visitors_cannot_post(client, db, bob, url):
    await make_post(db, bob, "bob's post")
    came_from = "http://localhost/user/bob?cursor=x"
    response = await post(client, url, {"post": "sneaky", "nickname": "x"}, headers={"Referer": came_from})
    assert response.status_code == 302
    assert login_next(response.headers["Location"]) == "/user/bob?cursor=x"  # back to the page
    response = await post(client, url, {"post": "sneaky", "nickname": "x"}, htmx=True,
                          headers={"HX-Current-URL": came_from})
    assert response.status_code == 401
    assert login_next(response.headers["HX-Redirect"]) == "/user/bob?cursor=x"
    response = await post(client, url, {"post": "sneaky"}, headers={"Referer": "https://evil.example/x"})
    assert login_next(response.headers["Location"]) == "/index"  # never another site
    assert await count(db, select(Post)) == 1
    assert await count(db, select(followers)) == 0
