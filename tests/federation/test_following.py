"""A person here finds someone elsewhere from the search box and follows them: the look-up (only
for people logged in who submit the search; checked by WebFinger both ways; failures said and
remembered), their profile here, the Follow sent and "Requested" until their server answers,
Accept, Reject, taking a request back and unfollowing (an Undo naming the Follow sent)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from conftest import make_user
from helpers import HTMX, flashes, login, post, text_of
from microblog.federation import RemoteActor
from microblog.db import utcnow
from microblog.federation.lookup import PER_PERSON, PER_SERVER
from microblog.federation.models import SentFollow
from microblog.follows.models import follow_requests
from search.support import jobs_done

from .test_inbox import deliver, follower_pairs


async def search(client, text: str, htmx: bool = False):
    return await client.get("/search", query_string={"q": text}, headers=HTMX if htmx else {})


async def alice_finds_bob(app, client, db, elsewhere):
    """alice, logged in, looks bob up by his address: bob's profile here (its path)."""
    await make_user(db, "alice")
    bob = elsewhere.person("bob")
    await login(client, "alice")
    found = await search(client, bob)
    assert found.status_code == 303, await text_of(found)
    return bob, found.headers["Location"]


async def sent(elsewhere, kind: str) -> list[dict]:
    return [activity for path, _, activity in elsewhere.received if activity["type"] == kind]


async def test_a_person_logged_in_finds_someone_elsewhere_by_address(app, client, db, elsewhere):
    bob, profile = await alice_finds_bob(app, client, db, elsewhere)
    assert profile == f"/user/bob@{elsewhere.host}"
    page = await text_of(await client.get(profile))
    assert "Bob" in page and f"@bob@{elsewhere.host}" in page
    assert f'href="{elsewhere.url}/@bob"' in page  # their own profile, with older posts
    assert f"/.well-known/webfinger?resource=acct:bob@{elsewhere.host}" in elsewhere.fetched  # checked back
    fetches = len(elsewhere.fetched)
    again = await search(client, f"@bob@{elsewhere.host}")  # by handle now: known, fresh, not fetched again
    assert again.headers["Location"] == profile and len(elsewhere.fetched) == fetches


async def test_visitors_and_active_search_never_fetch(app, client, db, elsewhere):
    await make_user(db, "alice")
    bob = elsewhere.person("bob")
    page = await text_of(await search(client, bob))
    assert "Log in to look up people on other servers." in page
    await login(client, "alice")
    typing = await search(client, bob, htmx=True)
    assert typing.status_code == 200 and "Press Enter to look this up on its server." in await text_of(typing)
    assert elsewhere.fetched == []


async def test_a_failed_look_up_is_said_and_remembered(app, client, db, elsewhere):
    await make_user(db, "alice")
    await login(client, "alice")
    nobody = f"{elsewhere.url}/users/nobody"
    page = await text_of(await search(client, nobody))
    assert f"No account {nobody} was found." in page
    assert f"No account {nobody} was found." in await text_of(await search(client, nobody))
    assert elsewhere.fetched.count("/users/nobody") == 1  # the second time from memory


async def test_a_server_that_passes_off_someone_elses_handle_is_refused(app, client, db, elsewhere):
    await make_user(db, "alice")
    bob = elsewhere.person("bob")
    elsewhere.documents[f"/.well-known/webfinger?resource=acct:bob@{elsewhere.host}"]["links"][0]["href"] = \
        f"{elsewhere.url}/users/someone-else"
    await login(client, "alice")
    page = await text_of(await search(client, bob))
    assert "did not say who this is" in page
    assert await db.scalar(select(RemoteActor.user_id)) is None


@pytest.mark.parametrize("htmx", [False, True])
async def test_following_someone_elsewhere_waits_for_their_accept(app, client, db, elsewhere, htmx):
    bob, profile = await alice_finds_bob(app, client, db, elsewhere)
    action = re.search(r'action="([^"]+/follow)"', await text_of(await client.get(profile)))[1]
    answer = await post(client, action, htmx=htmx)
    box = await text_of(answer if htmx else await client.get(answer.headers["Location"]))
    assert "Requested" in box and "Cancel request" in box
    await jobs_done(app)
    [follow] = await sent(elsewhere, "Follow")
    assert follow["object"] == bob and follow["actor"].startswith("http://localhost/users/")

    accept = {"id": f"{bob}#accepts/1", "type": "Accept", "actor": bob, "object": follow}
    assert (await deliver(client, elsewhere, bob, accept, "http://localhost/inbox")).status_code == 202
    await jobs_done(app)
    page = await text_of(await client.get(profile))
    assert "Unfollow" in page and "Requested" not in page
    following = await text_of(await client.get("/user/alice/following"))
    assert f"@bob@{elsewhere.host}" in following

    answer = await post(client, action.replace("/follow", "/unfollow"), htmx=htmx)
    assert answer.status_code == 200 if htmx else 303
    await jobs_done(app)
    [undo] = await sent(elsewhere, "Undo")
    assert undo["object"]["id"] == follow["id"] and undo["actor"] == follow["actor"]
    assert await follower_pairs(db) == set()


async def test_a_rejected_or_withdrawn_request_ends(app, client, db, elsewhere):
    bob, profile = await alice_finds_bob(app, client, db, elsewhere)
    await post(client, f"{profile}/follow")
    await jobs_done(app)
    [follow] = await sent(elsewhere, "Follow")
    reject = {"id": f"{bob}#rejects/1", "type": "Reject", "actor": bob, "object": follow["id"]}  # by id alone
    await deliver(client, elsewhere, bob, reject, "http://localhost/inbox")
    await jobs_done(app)
    page = await text_of(await client.get(profile))
    assert ">Follow<" in page and "Requested" not in page
    assert await sent(elsewhere, "Undo") == []  # they ended it: nothing to take back

    await post(client, f"{profile}/follow")  # asks again: a Follow with an id of its own
    await jobs_done(app)
    second = (await sent(elsewhere, "Follow"))[-1]
    assert second["id"] != follow["id"]
    response = await post(client, f"{profile}/unfollow")
    assert flashes(await text_of(await client.get(response.headers["Location"])))[-1] == \
        f"You no longer ask to follow bob@{elsewhere.host}."
    await jobs_done(app)
    [undo] = await sent(elsewhere, "Undo")
    assert undo["object"]["id"] == second["id"]
    assert (await db.execute(select(follow_requests))).all() == [] and await db.scalar(select(SentFollow.activity_id)) is None


async def test_an_accept_from_anyone_else_changes_nothing(app, client, db, elsewhere):
    bob, profile = await alice_finds_bob(app, client, db, elsewhere)
    await post(client, f"{profile}/follow")
    await jobs_done(app)
    [follow] = await sent(elsewhere, "Follow")
    carol = elsewhere.person("carol")
    accept = {"id": f"{carol}#accepts/1", "type": "Accept", "actor": carol, "object": follow}
    assert (await deliver(client, elsewhere, carol, accept, "http://localhost/inbox")).status_code == 202
    await jobs_done(app)
    assert await follower_pairs(db) == set()
    assert "Requested" in await text_of(await client.get(profile))


async def test_their_about_me_is_shown_made_safe(app, client, db, elsewhere):
    await make_user(db, "alice")
    bob = elsewhere.person("bob")
    elsewhere.documents["/users/bob"]["summary"] = (
        '<p>Hi, I <em>garden</em>.<script>alert(1)</script></p><p onclick="x()">'
        '<a href="javascript:alert(2)">me</a> <a href="https://garden.example/">site</a></p>')
    await login(client, "alice")
    profile = (await search(client, bob)).headers["Location"]
    page = await text_of(await client.get(profile))
    assert "<p>Hi, I garden.</p>" in page or "<p>Hi, I <em>garden</em>.</p>" in page
    assert "<script>alert(1)" not in page and "javascript:" not in page and 'onclick="x()"' not in page
    assert 'href="https://garden.example/" rel="nofollow noopener noreferrer ugc"' in page


async def test_someone_known_is_fetched_again_after_a_day(app, client, db, elsewhere):
    bob, profile = await alice_finds_bob(app, client, db, elsewhere)
    elsewhere.documents["/users/bob"]["name"] = "Robert"
    assert (await search(client, bob)).headers["Location"] == profile
    assert "Robert" not in await text_of(await client.get(profile))  # fetched within a day: as it was
    await db.execute(update(RemoteActor).values(fetched_at=utcnow() - timedelta(days=1, minutes=1)))
    await db.commit()
    assert (await search(client, bob)).headers["Location"] == profile
    assert "Robert" in await text_of(await client.get(profile))


async def test_look_ups_are_limited_per_person_and_server(app, client, db, elsewhere):
    await make_user(db, "alice")
    await login(client, "alice")
    for n in range(min(PER_PERSON.free, PER_SERVER.free)):  # all on one server
        assert "No account" in await text_of(await search(client, f"{elsewhere.url}/users/nobody{n}"))
    page = await text_of(await search(client, f"{elsewhere.url}/users/one-more"))
    assert "You have looked up many people in a short time." in page
    assert "/users/one-more" not in elsewhere.fetched


async def test_this_sites_own_addresses_lead_to_the_person_here_never_fetched(app, client, db, elsewhere):
    alice = await make_user(db, "alice")
    await login(client, "alice")
    for address in ("http://localhost/user/alice", f"http://localhost/users/{alice.id}"):
        found = await search(client, address)
        assert found.status_code == 303 and found.headers["Location"] == "/user/alice", address
    assert "No account http://localhost/user/nobody was found." in await text_of(
        await search(client, "http://localhost/user/nobody"))
    assert await db.scalar(select(RemoteActor.user_id)) is None


@pytest.mark.parametrize("text", ["https://[abc/x", "https://example.com:abc/", "https://example.com:99999/@bob",
                                  "@bob@exa mple.com", "https://bücher.example:x/"])
async def test_broken_addresses_are_words_not_errors(app, client, db, text):
    await make_user(db, "alice")
    assert (await search(client, text)).status_code == 200  # a visitor
    await login(client, "alice")
    assert (await search(client, text)).status_code == 200


async def test_a_link_from_another_site_never_makes_this_one_look_anyone_up(app, client, db, elsewhere):
    await make_user(db, "alice")
    bob = elsewhere.person("bob")
    await login(client, "alice")
    page = await client.get("/search", query_string={"q": bob}, headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200 and "Press Enter to look this up on its server." in await text_of(page)
    assert elsewhere.fetched == []
    found = await client.get("/search", query_string={"q": bob}, headers={"Sec-Fetch-Site": "same-origin"})
    assert found.status_code == 303


async def test_the_same_new_actor_remembered_twice_at_once_is_one_person(app, db, elsewhere):
    from microblog.federation.remote import _user_for_handle, parse_actor, remember
    bob = elsewhere.person("bob")
    async with app.app_context():
        found = parse_actor(elsewhere.documents["/users/bob"], bob)
        first = await remember(db, found)
        await db.commit()
        # A second worker, which looked before the first one's commit, finds the handle taken by
        # the same actor: that is the one person, not someone else to rename.
        again = await _user_for_handle(db, "bob", elsewhere.host, bob)
    assert again.id == first.id and again.nickname == "bob"


async def test_their_counts_are_as_their_server_reports_them(app, client, db, elsewhere):
    await make_user(db, "alice")
    bob = elsewhere.person("bob")
    elsewhere.documents["/users/bob"]["followers"] = f"{bob}/followers"  # fetched: its totalItems
    elsewhere.documents["/users/bob/followers"] = {"type": "OrderedCollection", "totalItems": 1234}
    elsewhere.documents["/users/bob"]["following"] = {"type": "Collection", "totalItems": 56}  # given
    await login(client, "alice")
    profile = (await search(client, bob)).headers["Location"]
    page = await text_of(await client.get(profile))
    assert "1,234 followers" in page and "Following 56 users" in page and f"on {elsewhere.host}" in page
