"""Every post has a page of its own (/post/<id>), which every card's time leads to; post cards
show the author's display name beside their @nickname; Delete without JavaScript asks first."""
import pytest

from conftest import flashes, login, make_post, make_user, post, text_of
from helpers import HTMX, field_errors, input_value, link_href, page_of, title, visible
from htmltree import parse
from microblog.db import utcnow


async def test_a_post_has_a_page_that_anyone_can_read(app, db, client):
    alice = await make_user(db, "alice")
    mine = await make_post(db, alice, "a post with a page of its own, longer than a title should be")
    mine.language = "es"
    await db.commit()
    page = await page_of(client, f"/post/{mine.id}")  # a visitor
    assert title(page) == "alice: a post with a page of its own, longer… - microblog"
    text = visible(page)
    assert "a post with a page of its own, longer than a title should be" in text
    assert "Published today at" in text and "Language Spanish" in text
    assert parse(page).find("time")["datetime"] == mine.timestamp.isoformat()
    assert (await client.get("/post/999")).status_code == 404
    assert (await client.get("/post/999", headers=HTMX)).status_code == 404


@pytest.mark.parametrize("where", ["/explore", "/user/alice", "/post/{id}"])
async def test_every_cards_time_leads_to_its_post(app, db, client, where):
    alice = await make_user(db, "alice")
    mine = await make_post(db, alice, "hello")
    card = parse(await page_of(client, where.format(id=mine.id))).find("article")
    time_link = card.find("time").parent
    assert time_link.tag == "a" and time_link["href"] == f"/post/{mine.id}"


async def test_display_names_show_beside_the_nickname_on_old_and_new_cards(app, db):
    alice = await make_user(db, "alice")
    await make_post(db, alice, "an old post")
    client = app.test_client()
    assert (await login(client, "alice")).status_code == 303
    assert "alice @alice · just now an old post" in visible(await page_of(client, "/explore"))  # kept now
    response = await post(client, "/edit_profile", {"nickname": "alice", "display_name": " Alice <b>Liddell</b> 🐇 ",
                                                    "about_me": ""})
    assert response.status_code == 303
    page = await page_of(client, "/explore")
    assert "Alice <b>Liddell</b> 🐇 @alice · just now an old post" in visible(page)  # escaped, not markup
    assert "<b>Liddell" not in page
    profile = await page_of(client, "/user/alice")
    assert parse(profile).find("h1").text.strip() == "Alice <b>Liddell</b> 🐇"
    assert input_value(await page_of(client, "/edit_profile"), "display_name") == "Alice <b>Liddell</b> 🐇"

    too_long = await post(client, "/edit_profile", {"nickname": "alice", "display_name": "x" * 51, "about_me": ""})
    page = await text_of(too_long)
    assert too_long.status_code == 422 and input_value(page, "display_name") == "x" * 51
    assert field_errors(page, "display_name") == ["A display name is at most 50 characters."]

    assert (await post(client, "/edit_profile", {"nickname": "alice", "display_name": "", "about_me": ""})).status_code == 303
    assert "alice @alice · just now an old post" in visible(await page_of(client, "/explore"))


async def test_delete_without_javascript_asks_first_and_goes_back(app, db):
    alice = await make_user(db, "alice")
    mine = await make_post(db, alice, "short-lived")
    client = app.test_client()
    assert (await login(client, "alice")).status_code == 303
    form = parse(await page_of(client, "/user/alice")).find("form", action=f"/post/{mine.id}/delete")
    assert form["method"] == "get" and form["hx-post"] == f"/post/{mine.id}/delete"  # a GET asks first

    asking = await client.get(form["action"], headers={"Referer": "http://localhost/user/alice"})
    page = await text_of(asking)
    assert asking.status_code == 200 and "Do you want to delete this post?" in visible(page)
    assert link_href(page, "Cancel") == "/user/alice"
    [confirm] = [form for form in parse(page).find_all("form") if form["action"].startswith(f"/post/{mine.id}/")]
    response = await post(client, confirm["action"], headers={"Referer": f"http://localhost{form['action']}"})
    assert response.status_code == 303 and response.headers["Location"] == "/user/alice"
    assert flashes(await page_of(client, "/user/alice")) == ["Your post has been deleted."]


async def test_deleting_from_the_posts_own_page_goes_home(app, db):
    alice = await make_user(db, "alice")
    mine = await make_post(db, alice, "short-lived")
    client = app.test_client()
    assert (await login(client, "alice")).status_code == 303
    asking = await text_of(await client.get(f"/post/{mine.id}/delete",
                                            headers={"Referer": f"http://localhost/post/{mine.id}"}))
    [confirm] = [form for form in parse(asking).find_all("form") if form["action"].startswith(f"/post/{mine.id}/")]
    response = await post(client, confirm["action"])
    assert response.status_code == 303 and response.headers["Location"] == "/index"


async def test_deleting_with_htmx_on_the_posts_own_page_goes_home(app, db):
    alice = await make_user(db, "alice")
    mine, other = await make_post(db, alice, "short-lived"), await make_post(db, alice, "stays")
    client = app.test_client()
    assert (await login(client, "alice")).status_code == 303
    response = await post(client, f"/post/{mine.id}/delete", htmx=True,
                          headers={"HX-Current-URL": f"http://localhost/post/{mine.id}"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/index"
    assert flashes(await page_of(client, "/index"))[-1] == "Your post has been deleted."
    elsewhere = await post(client, f"/post/{other.id}/delete", htmx=True,
                           headers={"HX-Current-URL": "http://localhost/user/alice"})
    assert "HX-Redirect" not in elsewhere.headers  # from a list: the card goes, the page stays
