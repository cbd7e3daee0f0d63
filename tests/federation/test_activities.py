"""What the inbox's job does with activities it does not act on, or must not: a Follow of nobody
here, an Undo or Update by someone else, a post's Delete, a Like: accepted (202) and dropped,
changing nothing. And the keys of accounts made before federation, made by a backfill job."""
from sqlalchemy import select

from conftest import make_user
from microblog.accounts import User
from microblog.federation import ActorKey
from microblog.federation.keys import BACKFILL_BATCH, KEY_PAIR
from microblog.jobs import Job, enqueue, run_one
from search.support import jobs_done

from .test_inbox import deliver, follow_activity, followed_from_elsewhere, follower_pairs


async def test_activities_that_change_nothing(app, client, db, elsewhere):
    alice, bob = await followed_from_elsewhere(app, client, db, elsewhere)
    carol = elsewhere.person("carol")
    assert len(await follower_pairs(db)) == 1
    sent = len(elsewhere.received)

    nobody = dict(follow_activity(carol, alice), object="http://localhost/users/999999", id=f"{carol}/follows/9")
    elsewhere_follow = dict(follow_activity(carol, alice), object="https://elsewhere.example/users/x",
                            id=f"{carol}/follows/10")
    undo_by_carol = {"id": f"{carol}/undo/1", "type": "Undo", "actor": carol, "object": follow_activity(bob, alice)}
    update_of_bob_by_carol = {"id": f"{carol}/update/1", "type": "Update", "actor": carol,
                              "object": dict(elsewhere.documents["/users/bob"], name="Not Bob")}
    delete_a_post = {"id": f"{bob}/delete/1", "type": "Delete", "actor": bob, "object": f"{bob}/notes/1"}
    like = {"id": f"{bob}/likes/1", "type": "Like", "actor": bob, "object": "http://localhost/post/1"}
    for actor, activity in [(carol, nobody), (carol, elsewhere_follow), (carol, undo_by_carol),
                            (carol, update_of_bob_by_carol), (bob, delete_a_post), (bob, like)]:
        response = await deliver(client, elsewhere, actor, activity, "http://localhost/inbox")
        assert response.status_code == 202, activity["id"]
    jobs = await jobs_done(app)
    assert all(job.state == "done" for job in jobs)
    assert len(await follower_pairs(db)) == 1 and len(elsewhere.received) == sent  # no Accept to carol
    bob_here = await db.scalar(select(User).where(User.nickname == "bob", User.domain == elsewhere.host))
    await db.refresh(bob_here)
    assert bob_here.display_name == "Bob"


async def test_accounts_made_before_federation_get_their_keys_in_batches(app, db):
    users = [await make_user(db, f"user{n}") for n in range(BACKFILL_BATCH + 3)]
    async with app.app_context():
        enqueue(db, KEY_PAIR, {}, key="backfill")
        await db.commit()
        await run_one(app)  # (a job committed outside a request wakes no runner; the next one does)
    await jobs_done(app)
    keys = set(await db.scalars(select(ActorKey.user_id)))
    assert keys == {user.id for user in users}
    assert all(job.state == "done" for job in await db.scalars(select(Job)))
    assert len(list(await db.scalars(select(Job)))) == 2  # the first batch, then the rest
