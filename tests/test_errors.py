"""Error pages as the browser sees them: full pages, or small fragments for htmx."""
import pytest
from sqlalchemy import func, select

from conftest import flashes, login, make_user, post, text_of
from helpers import make_posting_fail
from microblog.posts import Post


@pytest.fixture
def app_config(app_config):
    # Let unhandled errors reach the 500 handler, as in production, where admins are told.
    return {**app_config, "PROPAGATE_EXCEPTIONS": False, "ADMINS": ["admin@example.com"]}


async def test_server_error_page_and_fragment(app, db, client):
    await make_user(db, "alice")
    assert (await login(client, "alice")).status_code == 303
    await make_posting_fail(db)

    response = await post(client, "/post", {"post": "this will fail"})
    assert response.status_code == 500
    page = await text_of(response)
    assert "An unexpected error has occurred" in page
    assert "<title>An unexpected error has occurred - microblog</title>" in page
    assert "Log out" in page  # the layout still knows who is logged in after the rollback

    response = await post(client, "/post", {"post": "this will fail"}, htmx=True)
    assert response.status_code == 500
    fragment = await text_of(response)
    assert "The administrator has been notified." in fragment
    assert "<html" not in fragment
    assert "<p data-message>" in fragment  # what app.js shows by the button
    assert "HX-Retarget" not in response.headers  # the place is app.js's to choose
    assert "HX-Request" in response.headers["Vary"]

    # The session was rolled back: the next request works.
    response = await client.get("/index")
    assert response.status_code == 200
    assert await db.scalar(select(func.count()).select_from(Post)) == 0


async def test_the_500_page_says_admins_were_told_only_when_there_are_some(app, db, client):
    await make_user(db, "alice")
    await login(client, "alice")
    await make_posting_fail(db)
    app.config["ADMINS"] = []
    response = await post(client, "/post", {"post": "this will fail"})
    assert response.status_code == 500
    page = await text_of(response)
    assert "administrator" not in page and "Sorry for the inconvenience! Please try again later." in page


async def test_not_found_page_and_fragment(client):
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "<title>Page not found - microblog</title>" in await text_of(response)
    response = await client.get("/user/nobody", headers={"HX-Request": "true"})
    assert response.status_code == 404
    fragment = await text_of(response)
    assert "Sorry, that page does not exist." in fragment and "<html" not in fragment


async def test_method_not_allowed_is_a_page(client):
    response = await client.get("/post")
    assert response.status_code == 405
    assert "That action is not available here." in await text_of(response)
