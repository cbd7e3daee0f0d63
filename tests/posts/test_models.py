"""The Post model: timelines from follows, and deleted posts (across sessions, ids never reused)."""
from datetime import timedelta

from sqlalchemy import func, select

from conftest import follow, login, make_post, make_user, post
from helpers import fresh, post_ids
from microblog.db import utcnow
from microblog.paging import keyset_page
from microblog.posts import Post


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
        shapes = [await keyset_page(db, Post.timeline(user, newest_first), Post.timestamp, Post.id, None, 100,
                                   load=Post.with_authors)
                  for newest_first in (False, True)]
        by_author, newest_first = ([p.id for p in page.items] for page in shapes)
        assert by_author == newest_first  # two shapes of one query
        return by_author

    assert await timeline(john) == [p2.id, p4.id, p1.id]
    assert await timeline(susan) == [p2.id, p3.id]
    assert await timeline(mary) == [p3.id, p4.id]
    assert await timeline(david) == [p4.id]

    # Authors come with the posts (no lazy load needed to show "<nickname>").
    page = await keyset_page(db, Post.timeline(john), Post.timestamp, Post.id, None, 100, load=Post.with_authors)
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


# --- deleting ---------------------------------------------------------------------------------

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


async def test_a_deleted_posts_id_is_never_reused(app, db):
    """Old /delete/<id> links and cursors must never point at somebody's newer post."""
    alice = await make_user(db, "alice")
    first = await make_post(db, alice, "first")
    await db.delete(first)
    await db.commit()
    second = await make_post(db, alice, "second")
    assert second.id > first.id
