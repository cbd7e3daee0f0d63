"""The daily pruning: posts from elsewhere nobody here follows, older than FEDERATION_PRUNE_DAYS,
are forgotten, and then people from elsewhere nothing here points at; everything someone here
still follows, or that follows someone here, stays."""
from datetime import timedelta

from sqlalchemy import select, update

from conftest import make_user
from microblog.accounts import User
from microblog.db import utcnow
from microblog.federation import RemoteActor
from microblog.federation.pruning import PRUNE, queue_pruning
from microblog.federation.remote import parse_actor, remember
from microblog.follows.models import follow
from microblog.jobs import Job, run_one
from microblog.posts.models import PUBLIC, Post

LONG_AGO = utcnow() - timedelta(days=40)


async def someone(db, elsewhere, name: str, fetched=LONG_AGO) -> User:
    actor = elsewhere.person(name)
    user = await remember(db, parse_actor(elsewhere.documents[f"/users/{name}"], actor))
    await db.execute(update(RemoteActor).where(RemoteActor.user_id == user.id).values(fetched_at=fetched))
    return user


async def their_post(db, author: User, n: int, when) -> int:
    return await Post.receive(db, author, f"https://elsewhere.example/{author.nickname}/{n}", "<p>hi</p>", "hi", None,
                              PUBLIC, when, "en")


async def test_what_nobody_here_needs_is_forgotten_and_the_rest_kept(app, db, elsewhere):
    app.config["FEDERATION_PRUNE_DAYS"] = 30
    alice = await make_user(db, "alice")
    async with app.app_context():  # what the posts' events reach (search) needs the app
        bob, carol, dave, erin = [await someone(db, elsewhere, name) for name in ("bob", "carol", "dave", "erin")]
        await follow(db, alice, bob)  # she follows bob
        await follow(db, erin, alice)  # erin follows her
        bobs_old = await their_post(db, bob, 1, LONG_AGO)
        carols_old = await their_post(db, carol, 1, LONG_AGO)
        carols_new = await their_post(db, carol, 2, utcnow())
        dave_id, carol_id = dave.id, carol.id
        queue_pruning(db)
        await db.commit()

    while await run_one(app):  # the posts' search jobs, then the pruning (tomorrow's is not due)
        pass
    db.expunge_all()
    kept = set(await db.scalars(select(Post.id)))
    assert kept == {bobs_old, carols_new}  # carol's old post: nobody here follows her
    people = set(await db.scalars(select(User.nickname).where(User.domain != "")))
    assert people == {"bob", "carol", "erin"}  # dave: nothing points at him; carol: a post of hers is left
    assert await db.get(RemoteActor, dave_id) is None and await db.get(RemoteActor, carol_id) is not None
    [tomorrow] = await db.scalars(select(Job).where(Job.kind == PRUNE, Job.state == "queued"))
    assert tomorrow.run_after > utcnow() + timedelta(hours=23)
    assert carols_old not in kept


async def test_switched_off_it_keeps_everything(app, db, elsewhere):
    app.config["FEDERATION_PRUNE_DAYS"] = 30
    async with app.app_context():
        await someone(db, elsewhere, "dave")
        queue_pruning(db)
        await db.commit()
    app.config["FEDERATION_PRUNE_DAYS"] = 0  # the operator changed their mind meanwhile
    while await run_one(app):
        pass
    assert await db.scalar(select(User.nickname).where(User.domain != "")) == "dave"
    assert await db.scalar(select(Job).where(Job.kind == PRUNE, Job.state == "queued")) is None


async def test_someone_blocked_is_kept_with_the_block(app, db, elsewhere):
    from microblog.blocks.models import block
    app.config["FEDERATION_PRUNE_DAYS"] = 30
    alice = await make_user(db, "alice")
    async with app.app_context():
        dave = await someone(db, elsewhere, "dave")
        await block(db, alice, dave)
        queue_pruning(db)
        await db.commit()
    while await run_one(app):
        pass
    assert await db.scalar(select(User.nickname).where(User.domain != "")) == "dave"  # else he could follow her again
