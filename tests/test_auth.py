import asyncio
import re

from microblog.models import Throttle, User
from sqlalchemy import select

from conftest import login, make_user, post, text_of


async def test_register_then_login_and_logout(client, db):
    response = await client.get("/auth/register")
    assert response.status_code == 200
    assert "<title>Register - microblog</title>" in await text_of(response)

    response = await post(client, "/auth/register", {
        "nickname": "carol", "email": "Carol@Example.com", "password": "long enough", "password2": "long enough"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    carol = await User.by_nickname(db, "CAROL")
    assert carol.email == "carol@example.com"
    assert carol.password_hash.startswith("$argon2")

    response = await login(client, "carol", "long enough")
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    page = await text_of(await client.get("/index"))
    assert "Hi, carol!" in page

    response = await post(client, "/auth/logout")
    assert response.status_code == 303
    response = await client.get("/index")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
