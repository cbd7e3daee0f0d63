"""Nicknames that are the same name (look-alike letters, held after a rename) are refused to
anyone else (hardening #12: `bill`/`biII`, `admin`/`adrnin` were accepted, and a renamed
account's old nickname could be registered by someone else at once)."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from conftest import login, make_user, post
from helpers import field_errors, page_of, text_of
from microblog.accounts.nicknames import NicknameHold, fold
from microblog.db import utcnow

REGISTER = {"email": "someone@example.com", "password": "correct horse", "password2": "correct horse"}


async def register(client, nickname: str):
    return await post(client, "/auth/register", {**REGISTER, "nickname": nickname})


def test_look_alikes_fold_to_one_name():
    assert fold("biII") == fold("bill") == fold("b1ll")
    assert fold("adrnin") == fold("admin") and fold("vvill") == fold("will") and fold("b0b") == fold("bob")
    assert fold("bob") != fold("rob") and fold("a.b") != fold("a_b")


@pytest.mark.parametrize("taken, wanted", [("bill", "biII"), ("admin", "adrnin"), ("bob", "B0B"), ("will", "vvill")])
async def test_a_look_alike_of_someones_nickname_is_refused(app, client, db, taken, wanted):
    await make_user(db, taken)
    response = await register(client, wanted)
    assert response.status_code == 422
    [error] = field_errors(await text_of(response), "nickname")
    assert "taken" in error.lower() or "already" in error.lower()
    suggestion = error.rsplit(" ", 1)[-1].strip(".?")
    assert (await register(client, suggestion)).status_code == 303  # the suggestion is free


async def test_a_renamed_accounts_old_nickname_is_held_and_leads_to_the_new_one(app, db):
    alice = await make_user(db, "alice")
    await make_user(db, "mallory")
    client = app.test_client()
    assert (await login(client, "alice")).status_code == 303
    assert (await post(client, "/edit_profile", {"nickname": "alicia", "about_me": ""})).status_code == 303

    for nickname in ("alice", "ALICE", "aIice"):  # nobody else may take it, in any look
        response = await register(app.test_client(), nickname)
        assert response.status_code == 422, nickname
    mallory = app.test_client()
    assert (await login(mallory, "mallory")).status_code == 303
    assert (await post(mallory, "/edit_profile", {"nickname": "alice", "about_me": ""})).status_code == 422

    old = await app.test_client().get("/user/alice/followers")
    assert old.status_code == 302 and old.headers["Location"].endswith("/user/alicia/followers")
    assert "alicia" in await page_of(app.test_client(), "/user/alicia")

    # Its owner may take it back at once.
    assert (await post(client, "/edit_profile", {"nickname": "alice", "about_me": ""})).status_code == 303
    assert (await app.test_client().get("/user/alice")).status_code == 200


async def test_a_hold_ends(app, db):
    await make_user(db, "alice")
    client = app.test_client()
    assert (await login(client, "alice")).status_code == 303
    assert (await post(client, "/edit_profile", {"nickname": "alicia", "about_me": ""})).status_code == 303
    await db.execute(update(NicknameHold).values(until=utcnow() - timedelta(seconds=1)))  # HOLD_DAYS later
    await db.commit()
    assert (await app.test_client().get("/user/alice")).status_code == 404
    assert (await register(app.test_client(), "alice")).status_code == 303


async def test_look_alikes_from_before_both_keep_editing_their_profiles(app, db):
    """Two accounts registered before look-alikes were refused ("neil", "nell") still save their
    settings, and a change of case is still one's own; only a new name is checked."""
    await make_user(db, "neil")
    await make_user(db, "nell")
    client = app.test_client()
    assert (await login(client, "neil")).status_code == 303
    for nickname in ("neil", "Neil"):
        response = await post(client, "/edit_profile", {"nickname": nickname, "about_me": "still me"})
        assert response.status_code == 303, nickname
    assert (await post(client, "/edit_profile", {"nickname": "nell", "about_me": ""})).status_code == 422


async def test_the_held_nicknames_redirect_keeps_the_query(app, db):
    await make_user(db, "alice")
    client = app.test_client()
    assert (await login(client, "alice")).status_code == 303
    assert (await post(client, "/edit_profile", {"nickname": "alicia", "about_me": ""})).status_code == 303
    old = await app.test_client().get("/user/alice?cursor=abc")
    assert old.status_code == 302 and old.headers["Location"] == "/user/alicia?cursor=abc"
