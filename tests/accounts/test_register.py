"""Registering: the form's checks, taken nicknames and addresses, and two people racing for one."""
import asyncio

import pytest
from sqlalchemy import select

from conftest import login, make_user, post, text_of
from helpers import field_errors, input_value
from microblog.accounts import User


async def register(client, nickname="carol", email="carol@example.com",
                   password="long enough", password2=None, **kwargs):
    return await post(client, "/auth/register", {
        "nickname": nickname, "email": email, "password": password,
        "password2": password if password2 is None else password2}, **kwargs)


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


# --- the form's checks ------------------------------------------------------------------------

async def test_register_missing_fields(client, db):
    response = await post(client, "/auth/register", {})
    assert response.status_code == 422
    html = await text_of(response)
    for field in ("nickname", "email", "password", "password2"):
        assert field_errors(html, field) == ["This field is required."], field
    assert await db.scalar(select(User.id)) is None


@pytest.mark.parametrize("fields, field, message", [
    ({"email": "carol-at-example.com"}, "email", "Invalid email address."),
    ({"nickname": "carol smith"}, "nickname", "Please use only letters, digits, dots and underscores."),
    ({"nickname": "carol<script>"}, "nickname", "Please use only letters, digits, dots and underscores."),
    ({"nickname": "c" * 65}, "nickname", "Nicknames are at most 64 characters."),
    ({"nickname": "carol."}, "nickname", "A nickname cannot start or end with a dot."),  # Mastodon could not mention it
    ({"nickname": ".carol"}, "nickname", "A nickname cannot start or end with a dot."),
    ({"email": "a" * 60 + "@" + "b" * 60 + ".com"}, "email", "Field cannot be longer than 120 characters."),
    ({"password": "short", "password2": "short"}, "password", "Field must be between 8 and 1024 characters long."),
    ({"password2": "something else"}, "password2", "The two passwords do not match."),
])
async def test_register_validation_errors_keep_typed_values(client, db, fields, field, message):
    data = {"nickname": "carol", "email": "carol@example.com",
            "password": "long enough", "password2": "long enough", **fields}
    response = await post(client, "/auth/register", data)
    assert response.status_code == 422
    html = await text_of(response)
    assert message in field_errors(html, field)
    assert 'aria-invalid="true"' in html
    # What the user typed is still there (escaped), passwords are never echoed back.
    assert input_value(html, "nickname") == data["nickname"]  # as the browser shows it; escaped: see below
    assert input_value(html, "email") == data["email"]
    assert input_value(html, "password") in (None, "") and input_value(html, "password2") in (None, "")
    assert "carol<script>" not in html
    assert await db.scalar(select(User.id)) is None


async def test_register_nickname_64_characters_is_fine(client, db):
    response = await register(client, nickname="n" * 64)
    assert response.status_code == 303
    assert await User.by_nickname(db, "N" * 64) is not None


# --- taken nicknames and addresses ------------------------------------------------------------

async def test_register_nickname_taken_whatever_the_case(app, client, db):
    await make_user(db, "Carol", "first@example.com")
    response = await register(client, nickname="carol", email="second@example.com")
    assert response.status_code == 422
    html = await text_of(response)
    assert field_errors(html, "nickname") == ["This nickname is taken. How about carol2?"]
    assert input_value(html, "nickname") == "carol"
    assert input_value(html, "email") == "second@example.com"

    await make_user(db, "carol2", "third@example.com")
    html = await text_of(await register(client, nickname="CAROL", email="second@example.com"))
    assert field_errors(html, "nickname") == ["This nickname is taken. How about CAROL3?"]
    assert len((await db.scalars(select(User))).all()) == 2


async def test_register_email_taken(app, client, db):
    await make_user(db, "alice", "alice@example.com")
    response = await register(client, nickname="carol", email="Alice@Example.com")
    assert response.status_code == 422
    html = await text_of(response)
    assert field_errors(html, "email") == ["This email address is already registered."]
    assert field_errors(html, "nickname") == []
    assert input_value(html, "email") == "alice@example.com"  # kept, as it is stored: lower-case


async def test_register_race_for_one_nickname(app, db):
    """Two people submit the same nickname at the same moment: one wins, the other gets the form."""
    first, second = app.test_client(), app.test_client()
    responses = await asyncio.gather(
        register(first, nickname="dave", email="dave1@example.com"),
        register(second, nickname="Dave", email="dave2@example.com"),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303, 422]
    loser = next(r for r in responses if r.status_code == 422)
    errors = field_errors(await text_of(loser), "nickname")
    assert len(errors) == 1 and errors[0].startswith("This nickname is taken. How about ")
    users = (await db.scalars(select(User))).all()
    assert len(users) == 1 and users[0].nickname.lower() == "dave"


async def test_register_race_for_one_email(app, db):
    first, second = app.test_client(), app.test_client()
    responses = await asyncio.gather(
        register(first, nickname="erin", email="erin@example.com"),
        register(second, nickname="erin_b", email="ERIN@example.com"),
    )
    assert sorted(r.status_code for r in responses) == [303, 422]
    loser = next(r for r in responses if r.status_code == 422)
    assert field_errors(await text_of(loser), "email") == ["This email address is already registered."]
    assert len((await db.scalars(select(User))).all()) == 1
