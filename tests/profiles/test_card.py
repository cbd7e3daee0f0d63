"""A person's card: the fragment htmx shows under a name in a post (who they are, their counts, a
follow box that works in place), and the post card's hooks for it; without htmx, the profile."""
import pytest

from conftest import follow, make_post, make_user, post, text_of
from helpers import HTMX, assert_varies, login_next, page_of, visible
from helpers import alice_client  # noqa: F401 (the fixture: logged in, welcome message read)
from htmltree import parse, squeeze


@pytest.fixture
async def bob_with_a_life(db, alice, bob):
    """bob: a display name, an about-me, two posts, followed by alice and carol, following carol."""
    carol = await make_user(db, "carol")
    bob.display_name, bob.about_me = "Bob Builder", "I build things."
    await db.commit()
    await make_post(db, bob, "first")
    await make_post(db, bob, "second")
    await make_post(db, carol, "carol's")
    await follow(db, alice, bob)
    await follow(db, carol, bob)
    await follow(db, bob, carol)
    return bob


async def card_of(client, nickname: str) -> str:
    return await page_of(client, f"/user/{nickname}/card", htmx=True)


def follow_form(card: str):
    return parse(card).find("form")


async def test_the_card_says_who_they_are_and_counts(client, bob_with_a_life):
    card = await card_of(client, "bob")
    assert "<html" not in card and "<article" not in card  # a fragment, nothing of the page
    text = visible(card)
    assert "Bob Builder" in text and "@bob" in text
    assert "I build things." in text
    assert "2 followers" in text
    assert "Following 1 user" in text
    assert "2 posts" in text
    picture = parse(card).find("img")
    assert picture is not None and picture["alt"] == ""  # the name beside it says who it is


async def test_the_card_of_someone_new(client, db):
    await make_user(db, "dave")
    text = visible(await card_of(client, "dave"))
    assert "0 followers" in text and "Following 0 users" in text and "0 posts" in text


async def test_visitors_are_asked_to_log_in_to_follow(client, bob_with_a_life):
    card = await card_of(client, "bob")
    assert "Log in to follow" in visible(card)
    assert follow_form(card) is None
    login_link = next(a["href"] for a in parse(card).find_all("a") if squeeze(a.text) == "Log in to follow")
    # Back from logging in, without htmx: the card's address leads to the profile.
    assert login_next(login_link) == "/user/bob/card"
    response = await client.get("/user/bob/card")
    assert response.status_code == 302 and response.headers["Location"] == "/user/bob"


async def test_the_follow_box_is_the_viewers_and_works_in_place(db, alice_client, alice, bob):
    card = await card_of(alice_client, "bob")
    form = follow_form(card)
    assert form["action"] == "/user/bob/follow" and form["hx-post"] == "/user/bob/follow"
    assert form["hx-target"] == "closest .follow-box" and form["hx-swap"] == "outerHTML"
    assert parse(card).find("input", name="csrf_token")["value"]  # the no-JS path keeps its token
    assert "Follow bob" in visible(card) and "0 followers" in visible(card)

    response = await post(alice_client, "/follow/bob", htmx=True)
    assert response.status_code == 200

    card = await card_of(alice_client, "bob")
    assert follow_form(card)["action"] == "/user/bob/unfollow"
    assert "Unfollow bob" in visible(card) and "1 follower" in visible(card)


async def test_ones_own_card_has_no_follow_button(alice_client, alice):
    card = await card_of(alice_client, "alice")
    assert follow_form(card) is None
    assert "Log in to follow" not in visible(card)


async def test_without_htmx_the_card_is_the_profile(client, bob):
    response = await client.get("/user/BOB/card")
    assert response.status_code == 302
    assert response.headers["Location"] == "/user/bob"
    assert_varies(response)


@pytest.mark.parametrize("htmx", [False, True])
async def test_nobodys_card_is_a_404(client, htmx):
    response = await client.get("/user/nobody/card", headers=HTMX if htmx else {})
    assert response.status_code == 404
    assert_varies(response)
    assert "Sorry, that page does not exist." in await text_of(response)


async def test_a_post_names_its_authors_card(client, db, bob):
    """The name and the picture open the card under the name; the card's address depends on the
    author alone (post cards are kept rendered and shared by readers); both stay plain links."""
    bob_post = await make_post(db, bob, "hello")
    root = parse(await page_of(client, f"/post/{bob_post.id}"))
    card_id = f"author-card-{bob_post.id}"
    card = root.find(id=card_id)
    assert card["hx-get"] == "/user/bob/card"
    assert card["hx-trigger"] == "open-card once"  # fetched once, when app.js opens it
    assert card["aria-live"] == "polite"
    assert card.inner_html == ""  # nothing until it is fetched
    openers = root.find_all("a", data_card=card_id)
    assert [a["href"] for a in openers] == ["/user/bob", "/user/bob"]
    picture, name = openers
    assert picture["aria-hidden"] == "true" and picture["tabindex"] == "-1"
    assert name["aria-describedby"] == card_id and "tabindex" not in name.attrs
