"""Posts from elsewhere: bob, on another server, is followed by alice here; what he posts reaches
her home timeline, its HTML made safe; who else sees it depends on whom he addressed it to; his
edits and deletions count, nobody else's; what no one here follows, or that is not his to say, is
dropped; and nothing of it is sent back out."""
import json

from sqlalchemy import select

from conftest import follow, make_user
from helpers import login, page_of, post_ids
from microblog.db import new_session
from microblog.federation.documents import AS_PUBLIC
from microblog.federation.remote import parse_actor, remember
from microblog.jobs import Job
from microblog.posts import Post
from search.support import jobs_done, search

from .test_inbox import deliver

INBOX = "http://localhost/inbox"


async def known(app, elsewhere, name: str):
    """`name` elsewhere, as the site knows them once they have written or been looked up: (actor id, User)."""
    actor = elsewhere.person(name)
    async with app.app_context():
        async with new_session() as session:
            user = await remember(session, parse_actor(elsewhere.documents[f"/users/{name}"], actor))
            await session.commit()
    return actor, user


async def alice_follows_bob(app, db, elsewhere):
    """alice here follows bob elsewhere: (alice, bob's actor id, bob's User here)."""
    alice = await make_user(db, "alice")
    bob, bob_here = await known(app, elsewhere, "bob")
    await follow(db, alice, bob_here)
    return alice, bob, bob_here


def note(actor: str, number: int, content: str, public: bool = True, **fields) -> dict:
    """A Note as Mastodon writes one: public (to everyone, copied to the followers) or followers-only."""
    to, cc = ([AS_PUBLIC], [f"{actor}/followers"]) if public else ([f"{actor}/followers"], [])
    return {"id": f"{actor}/statuses/{number}", "type": "Note", "attributedTo": actor, "content": content,
            "url": f"{actor.replace('/users/', '/@')}/{number}", "published": "2026-12-01T10:00:00Z",
            "to": to, "cc": cc, **fields}


def create(actor: str, obj: dict) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{obj['id']}/activity", "type": "Create",
            "actor": actor, "to": obj.get("to", []), "cc": obj.get("cc", []), "object": obj}


async def send(app, client, elsewhere, actor: str, activity: dict, signer: str | None = None) -> None:
    response = await deliver(client, elsewhere, signer or actor, activity, INBOX)
    assert response.status_code == 202, response.status_code
    jobs = await jobs_done(app)
    assert all(job.state == "done" for job in jobs), [job.last_error for job in jobs if job.state != "done"]


async def stored(db) -> list[Post]:
    db.expunge_all()
    return list(await db.scalars(select(Post).where(Post.ap_id.isnot(None)).order_by(Post.id)))


HOSTILE = ('<p onclick="steal()">Tea time! <a href="https://tea.example/menu" target="_blank">the menu</a>'
           '<script>alert("pwned")</script> <a href="javascript:alert(1)">free tea</a>'
           '<img src="https://tracker.example/pixel.png"></p><p>Second paragraph</p>')


async def test_a_post_from_someone_followed_reaches_the_home_timeline_made_safe(app, client, db, elsewhere):
    alice, bob, bob_here = await alice_follows_bob(app, db, elsewhere)
    _, dave_here = await known(app, elsewhere, "dave")
    await follow(db, dave_here, bob_here)  # a follower elsewhere: a post of bob's here must not go to him
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, HOSTILE, contentMap={"en": HOSTILE})))

    [post] = await stored(db)
    assert (post.user_id, post.ap_id, post.visibility, post.language) == (
        bob_here.id, f"{bob}/statuses/1", "public", "en")
    assert post.body == 'Tea time! the menu free tea\n\nSecond paragraph'  # what search and translation read
    assert post.timestamp.isoformat().startswith("2026-12-01T10:00:00")

    await login(client, "alice")
    home = await page_of(client, "/index")
    assert post_ids(home) == [post.id]
    assert "Tea time!" in home and "Second paragraph" in home
    assert "pwned" not in home and "steal()" not in home and "javascript:" not in home and "tracker.example" not in home
    assert '<a href="https://tea.example/menu" rel="nofollow noopener noreferrer ugc">the menu</a>' in home
    assert 'target="_blank"' not in home
    assert f"@bob@{elsewhere.host}" in home and f"from {elsewhere.host}" in home  # whose it is, and where from
    assert f'href="{elsewhere.url}/@bob/1"' in home  # the original
    assert f'href="/user/bob@{elsewhere.host}"' in home

    assert post.id not in post_ids(await page_of(client, "/explore"))  # explore is this site's own
    assert post.id in post_ids(await page_of(app.test_client(), f"/user/bob@{elsewhere.host}"))
    visitor_page = await page_of(app.test_client(), f"/post/{post.id}")
    assert "Tea time!" in visitor_page and "pwned" not in visitor_page
    assert post.id in post_ids(await search(client, "paragraph"))

    # Nothing goes back out: no Create, no fan-out for a post that is not ours.
    assert not list(await db.scalars(select(Job).where(Job.kind.like("federation.%"), Job.kind != "federation.inbox")))


async def test_a_followers_only_post_shows_to_followers_and_no_one_else(app, client, db, elsewhere):
    alice, bob, bob_here = await alice_follows_bob(app, db, elsewhere)
    await make_user(db, "carol")  # here, not following bob
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, "<p>Only for my followers: secret scones</p>",
                                                             public=False)))
    [post] = await stored(db)
    assert post.visibility == "followers"

    await login(client, "alice")
    assert post_ids(await page_of(client, "/index")) == [post.id]
    assert "secret scones" in await page_of(client, f"/post/{post.id}")
    assert post.id not in post_ids(await page_of(client, "/explore"))
    assert await search(client, "scones") and post.id not in post_ids(await search(client, "scones"))
    bobs_profile = await page_of(app.test_client(), f"/user/bob@{elsewhere.host}")
    assert "Bob" in bobs_profile and "secret scones" not in bobs_profile
    assert "secret scones" not in await page_of(client, f"/user/bob@{elsewhere.host}")  # not even to a follower

    visitor = app.test_client()
    assert (await visitor.get(f"/post/{post.id}")).status_code == 404
    assert post.id not in post_ids(await page_of(visitor, "/explore"))
    assert post.id not in post_ids(await search(visitor, "scones"))

    carol = app.test_client()
    await login(carol, "carol")
    assert (await carol.get(f"/post/{post.id}")).status_code == 404
    assert post.id not in post_ids(await page_of(carol, "/index"))
    translate = await carol.get(f"/post/{post.id}/translate")  # "Post not found.", home
    assert translate.status_code == 303 and "secret scones" not in await translate.get_data(as_text=True)
    assert "secret scones" not in await page_of(carol, "/index")


async def test_a_post_nobody_here_follows_is_not_kept(app, client, db, elsewhere):
    await make_user(db, "alice")
    bob, _ = await known(app, elsewhere, "bob")
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, "<p>Hello, anyone?</p>")))
    assert await stored(db) == []


async def test_a_direct_message_is_not_kept(app, client, db, elsewhere):
    alice, bob, _ = await alice_follows_bob(app, db, elsewhere)
    dm = note(bob, 1, "<p>Just between us</p>", to=[f"http://localhost/users/{alice.id}"], cc=[])
    await send(app, client, elsewhere, bob, create(bob, dm))
    assert await stored(db) == []


async def test_a_followers_collection_of_another_name_is_read_from_the_authors_document(app, client, db, elsewhere):
    alice, bob, _ = await alice_follows_bob(app, db, elsewhere)
    elsewhere.documents["/users/bob"]["followers"] = f"{bob}/fans"
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, "<p>For my fans</p>", to=[f"{bob}/fans"], cc=[])))
    carol = elsewhere.person("carol")  # on bob's server: a message to her is no one else's
    await send(app, client, elsewhere, bob, create(bob, note(bob, 2, "<p>Hi Carol</p>", to=[carol], cc=[])))
    assert [(post.body, post.visibility) for post in await stored(db)] == [("For my fans", "followers")]


async def test_what_is_not_the_senders_to_say_is_dropped(app, client, db, elsewhere):
    alice, bob, _ = await alice_follows_bob(app, db, elsewhere)
    carol, _ = await known(app, elsewhere, "carol")
    # carol sends a Note she says is bob's
    spoofed = note(carol, 1, "<p>I am bob, honest</p>", attributedTo=bob)
    await send(app, client, elsewhere, carol, create(carol, spoofed))
    # bob's own activity, with a Note whose id is on another server
    elsewhere_id = dict(note(bob, 2, "<p>Not from here</p>"), id="https://other.example/statuses/2")
    await send(app, client, elsewhere, bob, create(bob, elsewhere_id))
    assert await stored(db) == []

    # unsigned, or signed by carol as bob: refused at the door
    body = create(bob, note(bob, 3, "<p>Forged</p>"))
    unsigned = await client.post("/inbox", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/activity+json"})
    assert unsigned.status_code == 401
    assert (await deliver(client, elsewhere, carol, body, INBOX)).status_code == 401
    await jobs_done(app)
    assert await stored(db) == []


async def test_a_post_delivered_twice_is_kept_once(app, client, db, elsewhere):
    alice, bob, _ = await alice_follows_bob(app, db, elsewhere)
    activity = create(bob, note(bob, 1, "<p>Once only</p>"))
    await send(app, client, elsewhere, bob, activity)
    await send(app, client, elsewhere, bob, activity)  # later, once the first was handled
    await send(app, client, elsewhere, bob, dict(activity, id=f"{bob}/another-wrapper"))
    assert [post.body for post in await stored(db)] == ["Once only"]


async def test_an_edit_by_its_author_changes_the_words(app, client, db, elsewhere):
    alice, bob, _ = await alice_follows_bob(app, db, elsewhere)
    carol, _ = await known(app, elsewhere, "carol")
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, "<p>I like coffee</p>")))
    edited = note(bob, 1, "<p>I like <b>tea</b><script>x()</script></p>", contentMap={"en": "…"})

    await send(app, client, elsewhere, carol, {"id": f"{carol}/edit", "type": "Update", "actor": carol,
                                               "object": dict(edited, attributedTo=carol)})
    [post] = await stored(db)
    assert post.body == "I like coffee"

    await send(app, client, elsewhere, bob, {"id": f"{bob}/edit", "type": "Update", "actor": bob, "object": edited})
    [post] = await stored(db)
    assert (post.body, post.html, post.language) == ("I like tea", "<p>I like tea</p>", "en")
    await login(client, "alice")
    assert "I like tea" in await page_of(client, "/index")
    hits = await search(client, "tea")
    assert post.id in post_ids(hits) and post.id not in post_ids(await search(client, "coffee"))


async def test_a_deletion_counts_only_from_its_author(app, client, db, elsewhere):
    alice, bob, _ = await alice_follows_bob(app, db, elsewhere)
    carol, _ = await known(app, elsewhere, "carol")
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, "<p>Soon gone, searchable meanwhile</p>")))
    [post] = await stored(db)
    await login(client, "alice")
    assert post.id in post_ids(await search(client, "searchable"))

    await send(app, client, elsewhere, carol, {"id": f"{carol}/del", "type": "Delete", "actor": carol,
                                               "object": {"id": post.ap_id, "type": "Tombstone"}})
    assert len(await stored(db)) == 1

    await send(app, client, elsewhere, bob, {"id": f"{bob}/del", "type": "Delete", "actor": bob,
                                             "object": {"id": post.ap_id, "type": "Tombstone"}})
    assert await stored(db) == []
    assert post_ids(await page_of(client, "/index")) == []
    assert post.id not in post_ids(await search(client, "searchable"))
    assert not list(await db.scalars(select(Job).where(Job.kind == "federation.fan_out")))  # nothing sent


async def test_its_time_is_never_in_the_future_and_its_language_is_read_when_not_named(app, client, db, elsewhere):
    alice, bob, _ = await alice_follows_bob(app, db, elsewhere)
    text = "<p>Esta es una publicación escrita en español para que se detecte su idioma sin ayuda.</p>"
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, text, published="2999-01-01T00:00:00Z")))
    [post] = await stored(db)
    assert post.language == "es" and post.timestamp.year < 2999


async def test_a_note_too_long_is_dropped(app, client, db, elsewhere):
    """Over CONTENT_MAX (a site that takes bodies that large: MAX_BODY_BYTES is 64 KB unless set)."""
    app.config["MAX_CONTENT_LENGTH"] = 300 * 1024
    alice, bob, _ = await alice_follows_bob(app, db, elsewhere)
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, "<p>" + "tea " * 30_000 + "</p>")))
    assert await stored(db) == []


async def test_a_long_note_is_kept_whole(app, client, db, elsewhere):
    """Longer than MariaDB's TEXT (64 KB): its columns are MEDIUMTEXT there."""
    app.config["MAX_CONTENT_LENGTH"] = 300 * 1024
    alice, bob, _ = await alice_follows_bob(app, db, elsewhere)
    words = "té " * 30_000  # 120,000 bytes of text
    await send(app, client, elsewhere, bob, create(bob, note(bob, 1, words[:-1])))
    assert await stored(db) == []  # over CONTENT_MAX
    words = "té " * 24_000  # 96,000 bytes
    await send(app, client, elsewhere, bob, create(bob, note(bob, 2, f"<p>{words.strip()}</p>")))
    [post] = await stored(db)
    assert post.body == words.strip() and post.html == f"<p>{words.strip()}</p>"


async def test_an_unlisted_post_is_shown_but_never_searched(app, client, db, elsewhere):
    alice, bob, bob_here = await alice_follows_bob(app, db, elsewhere)
    quiet = note(bob, 7, "<p>Quietly public marmalade</p>")
    quiet["to"], quiet["cc"] = [f"{bob}/followers"], ["https://www.w3.org/ns/activitystreams#Public"]
    await send(app, client, elsewhere, bob, create(bob, quiet))
    [post] = await stored(db)
    assert post.visibility == "unlisted"
    await login(client, "alice")
    assert post_ids(await page_of(client, "/index")) == [post.id]
    assert post.id in post_ids(await page_of(app.test_client(), f"/user/bob@{elsewhere.host}"))
    assert "marmalade" in await page_of(app.test_client(), f"/post/{post.id}")
    assert post.id not in post_ids(await search(client, "marmalade"))
