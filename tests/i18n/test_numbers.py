"""Plural forms and numbers as the reader writes them."""
import pytest
from quart import render_template

from conftest import follow, make_user
from helpers import page_of, visible
from microblog.follows import FollowState


@pytest.mark.parametrize("count, english, spanish", [
    (0, "0 followers", "0 seguidores"), (1, "1 follower", "1 seguidor"), (2, "2 followers", "2 seguidores"),
    (1234, "1,234 followers", "1.234 seguidores"), (1234567, "1,234,567 followers", "1.234.567 seguidores"),
])
async def test_follower_counts_are_plural_and_grouped_in_the_readers_language(app, db, count, english, spanish):
    user = await make_user(db, "bob")
    for accept_language, expected in (("en", english), ("es", spanish)):
        async with app.test_request_context("/user/bob", headers={"Accept-Language": accept_language}):
            await app.preprocess_request()
            box = await render_template("follows/_follow_box.html", user=user, state=FollowState(count, False))
        assert visible(box).startswith(expected)


async def test_a_profile_counts_in_the_readers_language(client, db):
    alice, bob, carol = [await make_user(db, name) for name in ("alice", "bob", "carol")]
    await follow(db, alice, bob)
    text = visible(await page_of(client, "/user/bob"))
    assert "1 follower " in text and "Following 0 users" in text
    await follow(db, carol, bob)
    await follow(db, bob, alice)
    response = await client.get("/user/bob", headers={"Accept-Language": "es"})
    text = visible((await response.get_data()).decode())
    assert "2 seguidores" in text and "Sigue a 1 usuario" in text
