"""Posts kept rendered (posts/cards.py): what differs by reader, by minute or by author is never
served from another reader's, another minute's or the old name's card."""
from datetime import timedelta



from conftest import make_post, make_user
from helpers import page_of, post, session_with_token, visible
from htmltree import parse
from microblog.db import utcnow
from microblog.i18n import times


def delete_forms(page: str) -> list[tuple[str, str]]:
    """(action, method) of each post's delete form."""
    return [(form["action"], form["method"])
            for form in parse(page).find_all("form") if form.get("action", "").endswith("/delete")]


async def test_each_reader_sees_their_own_buttons(app, db):
    alice, bob = await make_user(db, "alice"), await make_user(db, "bob")
    mine = await make_post(db, alice, "a post of alice")
    bobs_client = await session_with_token(app, "token-of-bob", "bob")
    alices_client = await session_with_token(app, "token-of-alice", "alice")
    assert delete_forms(await page_of(bobs_client, "/explore")) == []
    # Without JavaScript the button asks first (a GET of the page that asks); htmx posts.
    assert delete_forms(await page_of(alices_client, "/explore")) == [(f"/post/{mine.id}/delete", "get")]
    assert delete_forms(await page_of(bobs_client, "/explore")) == []
    assert (await post(alices_client, f"/post/{mine.id}/delete")).status_code == 303
    assert "a post of alice" not in await page_of(bobs_client, "/explore")


async def test_a_renamed_author_is_shown_under_the_new_name(app, db, client):
    alice = await make_user(db, "alice")
    await make_post(db, alice, "hello")
    assert "alice @alice ·" in visible(await page_of(client, "/explore"))
    alice.nickname = "alicia"
    await db.commit()
    page = await page_of(client, "/explore")
    assert "alicia @alicia ·" in visible(page) and 'href="/user/alicia"' in page and "/user/alice\"" not in page


async def test_the_relative_time_moves_on_while_the_rest_is_kept(app, db, client, monkeypatch):
    alice = await make_user(db, "alice")
    written = utcnow()
    await make_post(db, alice, "hello", when=written)
    assert "alice @alice · just now" in visible(await page_of(client, "/explore"))
    for later, shown in ((timedelta(minutes=10), "10 minutes ago"), (timedelta(hours=2), "2 hours ago")):
        monkeypatch.setattr(times, "utcnow", lambda later=later: written + later)
        page = await page_of(client, "/explore")
        assert f"alice @alice · {shown}" in visible(page)
        [when] = parse(page).find_all("time")
        assert when["datetime"] == written.isoformat() and when.text == shown


async def test_readers_in_other_languages_and_zones_get_their_own(app, db, client):
    alice = await make_user(db, "alice")
    await make_post(db, alice, "hello")
    english = parse(await page_of(client, "/explore")).find("time")["title"]
    spanish_client = app.test_client()
    response = await spanish_client.get("/explore", headers={"Accept-Language": "es",
                                                             "Cookie": "tz=America/Mexico_City"})
    page = await response.get_data(as_text=True)
    assert "alice @alice · ahora mismo" in visible(page)
    assert parse(page).find("time")["title"].endswith("(America/Mexico_City)")
    assert english.endswith("(UTC)")
    assert "alice @alice · just now" in visible(await page_of(client, "/explore"))
