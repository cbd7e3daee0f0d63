"""People here and people elsewhere keeping apart: blocking someone elsewhere sends their server an
Undo of our Follow and a Block (an Undo of it when unblocked), and their Follow is then answered
with a Reject; hiding a whole server ends the follows with everyone there and hides their posts
from search and profiles, until it is shown again from the settings page."""
import re

from helpers import page_of, post, post_ids, text_of
from search.support import jobs_done, search

from .test_following import alice_finds_bob, sent
from .test_inbox import deliver, follow_activity, follower_pairs
from .test_notes import INBOX, create, note, send, stored


async def alice_and_bob_follow_each_other(app, client, db, elsewhere):
    """alice here follows bob elsewhere (asked, accepted) and bob follows her: bob, his profile."""
    bob, profile = await alice_finds_bob(app, client, db, elsewhere)
    await post(client, f"{profile}/follow")
    await jobs_done(app)
    [follow] = await sent(elsewhere, "Follow")
    await deliver(client, elsewhere, bob, {"id": f"{bob}#accepts/1", "type": "Accept", "actor": bob, "object": follow},
                  INBOX)
    alice_id = int(re.search(r"/users/(\d+)", follow["actor"])[1])
    await deliver(client, elsewhere, bob, follow_activity(bob, type("A", (), {"id": alice_id})), INBOX)
    await jobs_done(app)
    assert len(await follower_pairs(db)) == 2
    return bob, profile, alice_id


async def test_blocking_someone_elsewhere_tells_their_server(app, client, db, elsewhere):
    bob, profile, alice_id = await alice_and_bob_follow_each_other(app, client, db, elsewhere)
    blocked = await post(client, f"{profile}/block", htmx=True)
    assert blocked.status_code == 200 and f"You have blocked bob@{elsewhere.host}." in await text_of(blocked)
    await jobs_done(app)
    assert await follower_pairs(db) == set()
    [undo] = await sent(elsewhere, "Undo")
    assert undo["object"]["type"] == "Follow"  # our Follow taken back
    [block] = await sent(elsewhere, "Block")
    assert block["actor"] == f"http://localhost/users/{alice_id}" and block["object"] == bob

    # His Follow now: a Reject, not an Accept; and no follow.
    accepts = len(await sent(elsewhere, "Accept"))
    await deliver(client, elsewhere, bob, {**follow_activity(bob, type("A", (), {"id": alice_id})),
                                           "id": f"{bob}/follows/2"}, INBOX)
    await jobs_done(app)
    [reject] = await sent(elsewhere, "Reject")
    assert reject["object"]["id"] == f"{bob}/follows/2" and len(await sent(elsewhere, "Accept")) == accepts
    assert await follower_pairs(db) == set()

    await post(client, f"{profile}/unblock")
    await jobs_done(app)
    undo_block = (await sent(elsewhere, "Undo"))[-1]
    assert undo_block["object"]["type"] == "Block" and undo_block["object"]["object"] == bob


async def test_hiding_a_server_parts_a_person_from_everyone_there(app, client, db, elsewhere):
    bob, profile, alice_id = await alice_and_bob_follow_each_other(app, client, db, elsewhere)
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, "<p>Marmalade on toast</p>")))
    [toast] = await stored(db)
    assert post_ids(await search(client, "marmalade")) == [toast.id]

    page = await page_of(client, profile)
    assert f"Hide everything from {elsewhere.host}" in page
    asked = await page_of(client, f"{profile}/hide-server")
    assert f"Do you want to hide everything from {elsewhere.host}?" in asked
    hidden = await post(client, f"{profile}/hide-server", headers={"Referer": f"http://localhost{profile}"})
    assert hidden.status_code == 303
    await jobs_done(app)
    assert await follower_pairs(db) == set()  # both ways
    [undo] = await sent(elsewhere, "Undo")
    assert undo["object"]["type"] == "Follow"
    page = await page_of(client, profile)
    assert f"Everything from {elsewhere.host} is hidden from you now." in page and post_ids(page) == []
    assert post_ids(await search(client, "marmalade")) == []
    assert post_ids(await search(app.test_client(), "marmalade")) == [toast.id]  # hidden from her alone
    refused = await post(client, f"{profile}/follow", htmx=True)
    assert refused.status_code == 403 and "Show it again first" in await text_of(refused)

    settings = await page_of(client, "/settings/blocks")
    assert elsewhere.host in settings
    shown = await post(client, f"/settings/blocks/servers/{elsewhere.host}/show",
                       headers={"Referer": "http://localhost/settings/blocks"})
    assert shown.headers["Location"] == "/settings/blocks"
    assert "You hide no server." in await page_of(client, "/settings/blocks")
    assert post_ids(await search(client, "marmalade")) == [toast.id]
