"""CSRF on the account forms: no token or a wrong one is refused, htmx sends it as a header."""
from conftest import csrf_token, post, text_of
from helpers import CSRF_MESSAGE, set_cookies
from microblog.accounts import User


async def test_post_without_csrf_token_is_refused(client, db, alice):
    response = await client.post("/auth/login", form={"nickname": "alice", "password": "correct horse"})
    assert response.status_code == 400
    assert CSRF_MESSAGE in await text_of(response)
    assert set_cookies(response, "QUART_AUTH") == []


async def test_post_with_wrong_csrf_token_is_refused(client, db):
    await post(client, "/auth/login", {})  # the session now has a token
    response = await client.post("/auth/register", form={
        "csrf_token": "not-the-token", "nickname": "mallory", "email": "m@example.com",
        "password": "long enough", "password2": "long enough"})
    assert response.status_code == 400
    assert CSRF_MESSAGE in await text_of(response)
    assert await User.by_nickname(db, "mallory") is None


async def test_htmx_post_with_csrf_header_is_accepted(client, alice):
    response = await post(client, "/auth/login", {"nickname": "alice", "password": "correct horse"},
                          htmx=True)
    assert response.status_code == 303
    assert (await client.get("/index")).status_code == 200


async def test_htmx_post_with_wrong_csrf_header_gets_a_message_fragment(client, alice):
    await csrf_token(client)  # the session has a token; the header sends another
    response = await client.post("/auth/login", form={"nickname": "alice", "password": "correct horse"},
                                 headers={"HX-Request": "true", "X-CSRFToken": "wrong"})
    assert response.status_code == 400
    assert "<p data-message>" in await text_of(response)  # the message app.js shows by the button
    html = await text_of(response)
    assert CSRF_MESSAGE in html and "<html" not in html
