"""Editing one's profile: current values shown, changes saved, taken or invalid nicknames refused
with what was typed kept, everything escaped."""
import pytest

from conftest import flashes, login, make_user, post, text_of
from helpers import assert_varies, field_errors, input_value, page_of, textarea_value, title, visible
from helpers import alice_client  # noqa: F401 (the fixture: logged in, welcome message read)
from microblog.accounts import User


@pytest.mark.parametrize("htmx", [False, True])
async def test_edit_profile_shows_current_values(db, alice_client, alice, htmx):
    alice.about_me = "I like tea & cake"
    await db.commit()
    page = await page_of(alice_client, "/edit_profile", htmx=htmx)
    assert title(page) == "Edit Profile - microblog"
    assert input_value(page, "nickname") == "alice"
    assert textarea_value(page, "about_me") == "I like tea & cake"


async def test_edit_profile_saves(app, db, alice_client, alice):
    response = await post(alice_client, "/edit_profile", {"nickname": "alice_w", "about_me": " Down the rabbit hole "})
    assert response.status_code == 303
    assert response.headers["Location"] == "/edit_profile"
    page = await page_of(alice_client, "/edit_profile")
    assert flashes(page) == ["Your changes have been saved."]
    assert input_value(page, "nickname") == "alice_w"
    assert textarea_value(page, "about_me") == "Down the rabbit hole"
    async with app.extensions["db_sessionmaker"]() as other:
        saved = await other.get(User, alice.id)
        assert (saved.nickname, saved.about_me) == ("alice_w", "Down the rabbit hole")
    page = await page_of(alice_client, "/user/alice_w")
    assert "Down the rabbit hole" in visible(page)
    old = await alice_client.get("/user/alice")  # held for her a while, leading to the new name
    assert old.status_code == 302 and old.headers["Location"] == "/user/alice_w"

    # Clearing "about me" removes it from the profile.
    assert (await post(alice_client, "/edit_profile", {"nickname": "alice_w", "about_me": ""})).status_code == 303
    assert "Down the rabbit hole" not in await page_of(alice_client, "/user/alice_w")


@pytest.mark.parametrize("wanted", ["alice", "Alice", "ALICE"])
async def test_edit_profile_keeps_or_recases_own_nickname(app, db, alice_client, alice, wanted):
    response = await post(alice_client, "/edit_profile", {"nickname": wanted, "about_me": "hi"})
    assert response.status_code == 303
    assert flashes(await page_of(alice_client, "/edit_profile")) == ["Your changes have been saved."]
    async with app.extensions["db_sessionmaker"]() as other:
        assert (await other.get(User, alice.id)).nickname == wanted
    assert title(await page_of(alice_client, "/user/alice")) == f"{wanted} - microblog"


@pytest.mark.parametrize("wanted", ["bob", "BOB"])
async def test_edit_profile_nickname_taken_suggests_another(app, db, alice_client, alice, bob, wanted):
    await make_user(db, "bob2")
    response = await post(alice_client, "/edit_profile", {"nickname": wanted, "about_me": "typed text"})
    assert response.status_code == 422
    assert_varies(response)
    page = await text_of(response)
    assert field_errors(page, "nickname") == [f"This nickname is taken. How about {wanted}3?"]
    assert input_value(page, "nickname") == wanted
    assert textarea_value(page, "about_me") == "typed text"
    async with app.extensions["db_sessionmaker"]() as other:
        assert (await other.get(User, alice.id)).nickname == "alice"
    # The navigation still links to the real profile.
    assert 'href="/user/alice">Profile</a>' in page


async def test_edit_profile_nickname_taken_simple_suggestion(db, alice_client, bob):
    response = await post(alice_client, "/edit_profile", {"nickname": "bob", "about_me": ""})
    assert response.status_code == 422
    assert "How about bob2?" in field_errors(await text_of(response), "nickname")[0]


@pytest.mark.parametrize("nickname, about_me, field, message", [
    ("alice", "a" * 141, "about_me", "About me is at most 140 characters."),
    ("a" * 65, "still here", "nickname", "Nicknames are at most 64 characters."),
    ("bad name!", "still here", "nickname", "Please use only letters, digits, dots and underscores."),
    ("<script>", "still here", "nickname", "Please use only letters, digits, dots and underscores."),
    ("", "still here", "nickname", "This field is required."),
])
@pytest.mark.parametrize("htmx", [False, True])
async def test_edit_profile_refused_keeps_what_was_typed(app, db, alice_client, alice, nickname, about_me,
                                                         field, message, htmx):
    response = await post(alice_client, "/edit_profile", {"nickname": nickname, "about_me": about_me}, htmx=htmx)
    assert response.status_code == 422
    assert_varies(response)
    page = await text_of(response)
    assert message in field_errors(page, field)
    assert input_value(page, "nickname") == nickname
    assert textarea_value(page, "about_me") == about_me
    assert "<script>" not in page.split("<body", 1)[1].replace('<script src=', '')
    async with app.extensions["db_sessionmaker"]() as other:
        saved = await other.get(User, alice.id)
        assert (saved.nickname, saved.about_me) == ("alice", None)


async def test_edit_profile_64_character_nickname_is_fine(alice_client):
    response = await post(alice_client, "/edit_profile", {"nickname": "a" * 64, "about_me": "b" * 140})
    assert response.status_code == 303


async def test_about_me_is_escaped(alice_client):
    evil = "<script>alert(1)</script>"
    assert (await post(alice_client, "/edit_profile", {"nickname": "alice", "about_me": evil})).status_code == 303
    for page in (await page_of(alice_client, "/user/alice"), await page_of(alice_client, "/edit_profile")):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_an_older_nickname_with_a_dot_at_the_end_keeps_working_but_no_new_one_gets_one(app, client, db):
    """New nicknames are handles Mastodon can mention (no dot first or last); an account that
    has one from before can still save its settings, and is found by its profile's address."""
    await make_user(db, "carol.")
    await login(client, "carol.")
    response = await post(client, "/edit_profile", {"nickname": "carol.", "about_me": "still me", "timezone": ""})
    assert response.status_code == 303
    response = await post(client, "/edit_profile", {"nickname": "carol2.", "about_me": "still me", "timezone": ""})
    assert response.status_code == 422
    assert "A nickname cannot start or end with a dot." in field_errors(await text_of(response), "nickname")
    response = await post(client, "/edit_profile", {"nickname": "caro.l", "about_me": "still me", "timezone": ""})
    assert response.status_code == 303
