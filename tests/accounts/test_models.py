"""The User model: nicknames (valid, taken, suggested, unique whatever the case), and what
deleting a user takes with it."""

import pytest
from sqlalchemy import func, select

from conftest import follow, make_post, make_user
from helpers import follow_rows, fresh
from microblog.accounts import User
from microblog.follows import follow_counts
from microblog.posts import Post


# --- nicknames --------------------------------------------------------------------------------

async def test_suggest_nickname(app, db):
    assert await User.suggest_nickname(db, "john") == "john"
    await make_user(db, "john")
    assert await User.suggest_nickname(db, "john") == "john2"
    await make_user(db, "john2")
    assert await User.suggest_nickname(db, "john") == "john3"
    # Other names starting with "john" do not matter.
    await make_user(db, "johnny")
    await make_user(db, "john4")
    assert await User.suggest_nickname(db, "john") == "john3"


async def test_suggest_nickname_is_case_insensitive(app, db):
    await make_user(db, "John")
    await make_user(db, "JOHN2")
    assert await User.suggest_nickname(db, "john") == "john3"
    assert await User.suggest_nickname(db, "JoHn") == "JoHn3"


async def test_suggest_nickname_treats_like_wildcards_literally(app, db):
    # "_" and "%" are LIKE wildcards; here they must mean themselves.
    await make_user(db, "axb", email="axb@example.com")
    await make_user(db, "axb2", email="axb2@example.com")
    assert await User.suggest_nickname(db, "a_b") == "a_b"
    await make_user(db, "a_b", email="a_b@example.com")
    assert await User.suggest_nickname(db, "a_b") == "a_b2"
    await make_user(db, "a_b2", email="a_b2@example.com")
    assert await User.suggest_nickname(db, "a_b") == "a_b3"

    await make_user(db, "zzz", email="zzz@example.com")
    assert await User.suggest_nickname(db, "z%") == "z%"
    await make_user(db, "z%", email="zpct@example.com")
    assert await User.suggest_nickname(db, "z%") == "z%2"
    await make_user(db, "q\\x", email="backslash@example.com")
    assert await User.suggest_nickname(db, "q\\x") == "q\\x2"


async def test_suggest_nickname_for_a_long_name_stays_within_limit(app, db):
    wanted = "a" * 64
    await make_user(db, wanted)
    suggestion = await User.suggest_nickname(db, wanted)
    assert len(suggestion) <= 64
    assert User.nickname_is_valid(suggestion)
    assert not await User.nickname_taken(db, suggestion)


async def test_nickname_taken(app, db):
    john = await make_user(db, "john")
    susan = await make_user(db, "susan")
    assert await User.nickname_taken(db, "john")
    assert await User.nickname_taken(db, "JOHN")
    assert not await User.nickname_taken(db, "johnny")
    assert not await User.nickname_taken(db, "john", exclude_id=john.id)  # one's own name
    assert not await User.nickname_taken(db, "John", exclude_id=john.id)
    assert await User.nickname_taken(db, "john", exclude_id=susan.id)
    assert not await User.nickname_taken(db, "j_hn")  # "_" is no wildcard
    assert not await User.nickname_taken(db, "jo%")


async def test_by_nickname_ignores_case(app, db):
    john = await make_user(db, "John")
    assert (await User.by_nickname(db, "john")).id == john.id
    assert (await User.by_nickname(db, "JOHN")).id == john.id
    assert await User.by_nickname(db, "j_hn") is None
    assert await User.by_nickname(db, "jo%") is None


async def test_nicknames_unique_whatever_the_case(app, db):
    await make_user(db, "john")
    with pytest.raises(Exception):
        await make_user(db, "JOHN", email="other@example.com")
    await db.rollback()
    assert await db.scalar(select(func.count()).select_from(User)) == 1


def test_nickname_is_valid():
    assert User.nickname_is_valid("john.doe_2")
    assert User.nickname_is_valid("a" * 64)
    assert not User.nickname_is_valid("a" * 65)
    assert not User.nickname_is_valid("")
    assert not User.nickname_is_valid("john doe")
    assert not User.nickname_is_valid("<script>")
    assert not User.nickname_is_valid("jo%n")


# --- deleting a user --------------------------------------------------------------------------

async def test_deleting_a_user_deletes_their_posts_and_follows(app, db):
    john, susan, mary = [await make_user(db, n) for n in ("john", "susan", "mary")]
    await make_post(db, john, "john's")
    await make_post(db, susan, "susan's 1")
    await make_post(db, susan, "susan's 2")
    await follow(db, john, susan)
    await follow(db, susan, john)
    await follow(db, susan, mary)
    await follow(db, mary, john)

    async with await fresh(app) as other:
        await other.delete(await other.get(User, susan.id))
        await other.commit()

    assert list(await db.scalars(select(Post.body).order_by(Post.body))) == ["john's"]
    assert await follow_rows(db) == {(mary.id, john.id)}
    assert await follow_counts(db, john) == (1, 0)
    assert await follow_counts(db, mary) == (0, 1)
    assert await db.scalar(select(func.count()).select_from(User)) == 2
