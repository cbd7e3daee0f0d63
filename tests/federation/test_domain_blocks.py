"""The operator blocks a server for everyone (`quart federation block-domain HOST`): its people
and posts are hidden everywhere, every follow between them and people here ends, its deliveries
are refused with 403 before any signature work, nothing more is sent to it (a delivery already
queued ends as final), and the search box will not look it up. Servers under a blocked domain
are blocked with it. Unblocking shows them again; the follows stay ended."""
import asyncio

from sqlalchemy import select

from conftest import follow, make_user
from helpers import login, page_of, post, post_ids, text_of, user_rows
from microblog import create_app
from microblog.accounts import User
from microblog.db import new_session
from microblog.federation import domain_blocks
from microblog.federation.delivery import deliver_to
from microblog.jobs import run_one
from search.support import jobs_done, search

from .test_inbox import deliver, follow_activity, follower_pairs
from .test_notes import INBOX, alice_follows_bob, create, note, send, stored


def operator(app, *args: str):
    """`quart federation …` as the operator runs it: an app of its own, in a thread (the command
    runs its own event loop)."""
    command_app = create_app({**app.config})
    return asyncio.to_thread(command_app.test_cli_runner().invoke, args=["federation", *args])


async def test_a_blocked_server_is_hidden_cut_off_and_refused(app, client, db, elsewhere):
    alice, bob, bob_here = await alice_follows_bob(app, db, elsewhere)
    await follow(db, bob_here, alice)  # and bob follows alice
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, "<p>Scones with clotted cream</p>")))
    [scones] = await stored(db)
    await login(client, "alice")
    assert post_ids(await page_of(client, "/index")) == [scones.id]
    assert post_ids(await search(client, "clotted")) == [scones.id]

    blocked = await operator(app, "block-domain", elsewhere.host)
    assert blocked.exit_code == 0, blocked.output
    assert f"{elsewhere.host} is blocked; 1 of its accounts hidden" in blocked.output

    # Hidden everywhere, for everyone.
    profile = f"/user/bob@{elsewhere.host}"
    visitor = app.test_client()
    for reader in (client, visitor):
        assert (await reader.get(profile)).status_code == 404
        assert (await reader.get(f"/post/{scones.id}")).status_code == 404
        assert post_ids(await search(reader, "clotted")) == []
    assert post_ids(await page_of(client, "/index")) == []
    assert await follower_pairs(db) == set()
    assert user_rows(await page_of(client, "/user/alice/followers")) == []
    assert user_rows(await page_of(client, "/user/alice/following")) == []

    # The search box will not look anyone there up, nor fetch anything.
    fetched = len(elsewhere.fetched)
    looked_up = await text_of(await client.get("/search", query_string={"q": f"@carol@{elsewhere.host}"}))
    assert f"{elsewhere.host} is blocked on this site: its people cannot be looked up or followed." in looked_up
    assert len(elsewhere.fetched) == fetched

    # Its deliveries: 403, before any key is fetched (dave is new: his key would be).
    dave = elsewhere.person("dave")
    refused = await deliver(client, elsewhere, dave, follow_activity(dave, alice), f"http://localhost/users/{alice.id}/inbox")
    assert refused.status_code == 403 and len(elsewhere.fetched) == fetched
    assert (await deliver(client, elsewhere, bob, create(bob, note(bob, 2, "<p>More</p>")), INBOX)).status_code == 403

    # Nothing goes to it: alice's new post has no one there to go to.
    received = len(elsewhere.received)
    await post(client, "/index", {"post": "Hello, anyone?"})
    await jobs_done(app)
    assert len(elsewhere.received) == received

    listed = await operator(app, "blocked-domains")
    assert listed.exit_code == 0 and listed.output.startswith(elsewhere.host)

    lifted = await operator(app, "unblock-domain", elsewhere.host)
    assert lifted.exit_code == 0 and "is not blocked any more" in lifted.output, lifted.output
    assert (await visitor.get(profile)).status_code == 200
    assert (await visitor.get(f"/post/{scones.id}")).status_code == 200
    assert await follower_pairs(db) == set()  # ended follows stay ended
    assert "was not blocked" in (await operator(app, "unblock-domain", elsewhere.host)).output


async def test_a_delivery_queued_before_the_block_is_dropped_as_final(app, client, db, elsewhere):
    alice = await make_user(db, "alice")
    async with app.app_context():
        async with new_session() as session:
            deliver_to(session, f"{elsewhere.url}/inbox", {"id": "http://localhost/x", "type": "Update"}, alice.id)
            await domain_blocks.block(session, "127.0.0.1")  # its host, whatever the port
            await session.commit()
    assert await run_one(app)  # (a job committed outside a request wakes no runner)
    [job] = await jobs_done(app)
    assert job.state == "failed" and "is blocked here" in job.last_error
    assert elsewhere.received == []


async def test_servers_under_a_blocked_domain_are_blocked_with_it(app, db):
    names = ["example.com", "social.example.com", "a.social.example.com:8443", "notexample.com", "example.com.evil"]
    for n, domain in enumerate(names):
        db.add(User(nickname=f"user{n}", domain=domain))
    await db.commit()

    async def suspended() -> set[str]:
        db.expunge_all()
        return set(await db.scalars(select(User.domain).where(User.suspended.is_(True))))

    async with app.app_context():
        async with new_session() as session:
            assert await domain_blocks.block(session, "Example.COM") == 3
            await domain_blocks.block(session, "social.example.com")
            await session.commit()
            assert await suspended() == {"example.com", "social.example.com", "a.social.example.com:8443"}
            assert await domain_blocks.is_blocked(session, "https://a.social.example.com:8443/users/x")
            assert not await domain_blocks.is_blocked(session, "https://notexample.com/users/x")
            assert await domain_blocks.unblock(session, "example.com")  # social.example.com stays blocked
            await session.commit()
            assert await suspended() == {"social.example.com", "a.social.example.com:8443"}
    assert domain_blocks.covering("127.0.0.1:8000") == ["127.0.0.1:8000", "127.0.0.1"]  # no "0.0.1"


async def test_the_command_refuses_what_is_no_host(app):
    refused = await operator(app, "block-domain", "not a host!")
    assert refused.exit_code != 0 and "not a host name" in refused.output
