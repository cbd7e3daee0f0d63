"""Users, posts and follows: the rules of the model, on SQLite and PostgreSQL."""
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import StatementError

from microblog.accounts import User
from microblog.accounts.throttle import Throttle
from microblog.db import utcnow
from microblog.follows import follow_counts, follow_states, is_following
from microblog.follows.models import followers
from microblog.posts import Post
from microblog.paging import keyset_page

from conftest import follow, login, make_post, make_user, post, unfollow
from helpers import follow_rows, fresh, post_ids


# --- follows -------------------------------------------------------------------------

async def test_follow_unfollow_and_is_following(app, db):
    john = await make_user(db, "john")
    susan = await make_user(db, "susan")
    assert not await is_following(db, john, susan)
    assert not await is_following(db, susan, john)

    assert await follow(db, john, susan) is True
    assert await is_following(db, john, susan)
    assert not await is_following(db, susan, john)  # following is one way
    assert await follow_rows(db) == {(john.id, susan.id)}

    # Following twice is harmless: no error, no second row.
    assert await follow(db, john, susan) is False
    assert await is_following(db, john, susan)
    assert await follow_rows(db) == {(john.id, susan.id)}

    # Another session (another request) sees the follow.
    async with await fresh(app) as other:
        assert await is_following(other, await other.get(User, john.id), await other.get(User, susan.id))

    assert await unfollow(db, john, susan) is True
    assert not await is_following(db, john, susan)
    assert await follow_rows(db) == set()
    # Unfollowing someone not followed is harmless too.
    assert await unfollow(db, john, susan) is False
    assert await follow_rows(db) == set()


async def test_self_follow_raises_and_stores_nothing(app, db):
    john = await make_user(db, "john")
    with pytest.raises(ValueError):
        await follow(db, john, john)
    assert not await is_following(db, john, john)
    assert await follow_rows(db) == set()
    assert await follow_counts(db, john) == (0, 0)


async def test_follow_counts(app, db):
    john, susan, mary, david = [await make_user(db, n) for n in ("john", "susan", "mary", "david")]
    for user in (john, susan, mary, david):
        assert await follow_counts(db, user) == (0, 0)
    await follow(db, john, susan)
    await follow(db, mary, susan)
    await follow(db, david, susan)
    await follow(db, susan, john)
    await follow(db, john, mary)
    # (followers, following)
    assert await follow_counts(db, susan) == (3, 1)
    assert await follow_counts(db, john) == (1, 2)
    assert await follow_counts(db, mary) == (1, 1)
    assert await follow_counts(db, david) == (0, 1)
    await unfollow(db, mary, susan)
    assert await follow_counts(db, susan) == (2, 1)
    assert await follow_counts(db, mary) == (1, 0)


async def test_follow_states_counts_and_viewer(app, db):
    john, susan, mary = [await make_user(db, n) for n in ("john", "susan", "mary")]
    await follow(db, john, susan)
    await follow(db, mary, susan)
    states = await follow_states(db, john, [susan, mary, john])
    assert states[susan.id].followers == 2 and states[susan.id].followed_by_viewer
    assert states[mary.id].followers == 0 and not states[mary.id].followed_by_viewer
    assert states[john.id].followers == 0 and not states[john.id].followed_by_viewer
    visitor = await follow_states(db, None, [susan])
    assert visitor[susan.id].followers == 2 and not visitor[susan.id].followed_by_viewer
    assert await follow_states(db, john, []) == {}


async def test_followed_posts(app, db):
    """The tutorial's test: each timeline holds the followed users' posts and one's own, newest first."""
    john, susan, mary, david = [await make_user(db, n) for n in ("john", "susan", "mary", "david")]
    now = utcnow()
    p1 = await make_post(db, john, "post from john", now + timedelta(seconds=1))
    p2 = await make_post(db, susan, "post from susan", now + timedelta(seconds=4))
    p3 = await make_post(db, mary, "post from mary", now + timedelta(seconds=3))
    p4 = await make_post(db, david, "post from david", now + timedelta(seconds=2))

    await follow(db, john, susan)
    await follow(db, john, david)
    await follow(db, susan, mary)
    await follow(db, mary, david)

    async def timeline(user):
        page = await keyset_page(db, Post.timeline(user), Post.timestamp, Post.id, None, 100)
        return [p.id for p in page.items]

    assert await timeline(john) == [p2.id, p4.id, p1.id]
    assert await timeline(susan) == [p2.id, p3.id]
    assert await timeline(mary) == [p3.id, p4.id]
    assert await timeline(david) == [p4.id]

    # Authors come with the posts (no lazy load needed to show "<nickname> said").
    page = await keyset_page(db, Post.timeline(john), Post.timestamp, Post.id, None, 100)
    assert [p.author.nickname for p in page.items] == ["susan", "david", "john"]

    # A user's own posts only.
    page = await keyset_page(db, Post.by_author(john), Post.timestamp, Post.id, None, 100)
    assert [p.id for p in page.items] == [p1.id]

    # And what each of them sees at home (three posts a page in the tests: john's fill exactly one).
    expected = {"john": [p2, p4, p1], "susan": [p2, p3], "mary": [p3, p4], "david": [p4]}
    for nickname, posts in expected.items():
        client = app.test_client()
        await login(client, nickname)
        home = await (await client.get("/index")).get_data(as_text=True)
        assert post_ids(home) == [p.id for p in posts], nickname


# --- nicknames -------------------------------------------------------------------------

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


# --- avatar ------------------------------------------------------------------------------

def test_avatar():
    user = User(nickname="john", email="John@Example.com")
    digest = hashlib.md5(b"john@example.com").hexdigest()
    assert digest == "d4c74594d841139328695756648b6bd6"
    assert user.avatar(128) == f"https://www.gravatar.com/avatar/{digest}?d=identicon&s=128"
    assert user.avatar(36) == f"https://www.gravatar.com/avatar/{digest}?d=identicon&s=36"


# --- time ----------------------------------------------------------------------------------

async def test_utc_datetime_comes_back_timezone_aware(app, db):
    john = await make_user(db, "john")
    susan = await make_user(db, "susan")
    # An aware time in another zone is stored as the same instant, to the microsecond.
    when = datetime(2024, 3, 1, 17, 30, 5, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    p = await make_post(db, john, "hello", when)
    john.last_seen = datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    await db.commit()
    await follow(db, john, susan)

    async with await fresh(app) as other:
        stored = await other.get(Post, p.id)
        assert stored.timestamp.tzinfo is not None
        assert stored.timestamp.utcoffset() == timedelta(0)
        assert stored.timestamp == when
        assert stored.timestamp == datetime(2024, 3, 1, 12, 0, 5, 123456, tzinfo=timezone.utc)
        seen = (await other.get(User, john.id)).last_seen
        assert seen == datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
        assert seen.utcoffset() == timedelta(0)
        followed_at = await other.scalar(select(followers.c.timestamp))
        assert followed_at.utcoffset() == timedelta(0)
        assert abs(utcnow() - followed_at) < timedelta(minutes=1)
        # Comparisons in SQL use the same instant.
        assert await other.scalar(select(Post.id).where(Post.timestamp == when)) == p.id
        assert await other.scalar(select(Post.id).where(
            Post.timestamp > when - timedelta(microseconds=1), Post.timestamp < when + timedelta(microseconds=1))) == p.id


async def test_naive_datetime_is_refused(app, db):
    john = await make_user(db, "john")
    with pytest.raises((ValueError, StatementError), match="naive"):
        await make_post(db, john, "hello", datetime(2024, 1, 1, 12, 0))
    await db.rollback()
    assert await db.scalar(select(func.count()).select_from(Post)) == 0


def test_seen_now_records_at_most_once_a_minute():
    user = User(nickname="john", email="john@example.com")
    t0 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert user.seen_now(t0) is True and user.last_seen == t0
    assert user.seen_now(t0 + timedelta(seconds=59)) is False and user.last_seen == t0
    assert user.seen_now(t0 + timedelta(seconds=60)) is True
    assert user.last_seen == t0 + timedelta(seconds=60)


# --- deleting ------------------------------------------------------------------------------

async def test_post_loaded_in_one_session_deleted_in_another(app, db, client):
    """The tutorial's delete bug: the post object lives in one session, the delete happens in another."""
    alice = await make_user(db, "alice")
    p = await make_post(db, alice, "soon gone")
    loaded = await db.get(Post, p.id)  # held by this session while a request deletes it
    assert loaded is p

    await login(client, "alice")
    response = await post(client, f"/delete/{p.id}")
    assert response.status_code == 303

    assert await db.get(Post, p.id, populate_existing=True) is None
    assert await db.scalar(select(func.count()).select_from(Post)) == 0
    db.expunge_all()  # SQLite may give the next post the same id

    # And between two plain sessions: load in one, delete in the other, both carry on.
    q = await make_post(db, alice, "also gone")
    async with await fresh(app) as other:
        await other.delete(await other.get(Post, q.id))
        await other.commit()
    assert await db.get(Post, q.id, populate_existing=True) is None
    db.expunge_all()
    await make_post(db, alice, "life goes on")
    assert await db.scalar(select(func.count()).select_from(Post)) == 1


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


async def test_follow_rows_need_existing_users(app, db):
    john = await make_user(db, "john")
    with pytest.raises(Exception):
        await db.execute(insert(followers).values(follower_id=john.id, followed_id=john.id + 1000,
                                                  timestamp=utcnow()))
        await db.commit()
    await db.rollback()
    assert await follow_rows(db) == set()


async def test_a_deleted_posts_id_is_never_reused(app, db):
    """Old /delete/<id> links and cursors must never point at somebody's newer post."""
    alice = await make_user(db, "alice")
    first = await make_post(db, alice, "first")
    await db.delete(first)
    await db.commit()
    second = await make_post(db, alice, "second")
    assert second.id > first.id


async def test_first_attempts_are_free_whatever_order_they_reach_the_database(app_context, db):
    """An attempt whose clock reading is older than another's must not be refused."""
    key = Throttle.key_for("login", "alice")
    assert (await Throttle.claim(key))[0] == 0
    row = await db.get(Throttle, key)
    row.last_attempt = utcnow() + timedelta(seconds=2)  # a later request got there first
    await db.commit()
    assert (await Throttle.claim(key))[0] == 0


async def test_a_late_failure_does_not_cut_a_newer_attempts_hold(app_context, db):
    key = Throttle.key_for("login", "alice")
    claims = [await Throttle.claim(key) for _ in range(Throttle.FREE_ATTEMPTS)]
    assert [wait for wait, _at in claims] == [0] * Throttle.FREE_ATTEMPTS
    await Throttle.failed(key, claims[0][1])  # the first attempt's answer comes in last
    wait, _at = await Throttle.claim(key)
    assert wait > 0  # the third attempt is still being checked


async def test_a_refused_claim_after_the_row_was_cleared_starts_afresh(app_context, db):
    key = Throttle.key_for("login", "alice")
    for _ in range(Throttle.FREE_ATTEMPTS):
        await Throttle.claim(key)
    await Throttle.clear(db, key)  # a successful log-in
    await db.commit()
    assert (await Throttle.claim(key))[0] == 0


def test_throttle_keys_have_a_fixed_length():
    assert len(Throttle.key_for("reset", "\u0130" * 120)) == len(Throttle.key_for("reset", "a")) < 200
