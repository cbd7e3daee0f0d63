"""The social pages as a user sees them: with a browser (no JavaScript) and with htmx."""
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, select

from microblog.accounts import User
from microblog.follows.models import followers
from microblog.posts import Post

from conftest import flashes, follow, login, make_post, make_user, post, text_of
from helpers import (CSRF_MESSAGE, HTMX, alice_client, assert_varies, count, field_errors, hx_partial,  # noqa: F401
                     input_value, link_href, login_next, page_of, post_ids, split_partial, textarea_value, title,
                     user_rows, visible)


# --- helpers -----------------------------------------------------------------------------


async def is_following(db, follower: User, followed: User) -> bool:
    return await db.scalar(select(followers.c.follower_id).where(
        followers.c.follower_id == follower.id, followers.c.followed_id == followed.id)) is not None


# --- visitors --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/index", "/edit_profile", "/follow/bob", "/unfollow/bob", "/delete/1"])
async def test_pages_behind_login_send_visitors_to_log_in(client, bob, url):
    response = await client.get(url)
    assert response.status_code == 302
    assert login_next(response.headers["Location"]) == url
    assert_varies(response)  # the htmx answer differs: caches must keep them apart

    response = await client.get(url, headers={**HTMX, "HX-Current-URL": "http://localhost/user/bob"})
    assert response.status_code == 401
    assert login_next(response.headers["HX-Redirect"]) == "/user/bob"  # the page, not the action
    assert_varies(response)
    fragment = await text_of(response)
    assert "Please log in to access this page." in fragment
    assert "<html" not in fragment


async def test_login_redirect_then_back(client, alice):
    response = await client.get("/index")
    page = await text_of(await client.get(response.headers["Location"]))
    assert "Please log in to access this page." in flashes(page)
    response = await post(client, response.headers["Location"], {"nickname": "alice", "password": "correct horse"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"


@pytest.mark.parametrize("url", ["/post", "/", "/index", "/follow/bob", "/unfollow/bob", "/delete/1", "/edit_profile"])
async def test_visitors_cannot_post(client, db, bob, url):
    await make_post(db, bob, "bob's post")
    came_from = "http://localhost/user/bob?cursor=x"
    response = await post(client, url, {"post": "sneaky", "nickname": "x"}, headers={"Referer": came_from})
    assert response.status_code == 302
    assert login_next(response.headers["Location"]) == "/user/bob?cursor=x"  # back to the page
    response = await post(client, url, {"post": "sneaky", "nickname": "x"}, htmx=True,
                          headers={"HX-Current-URL": came_from})
    assert response.status_code == 401
    assert login_next(response.headers["HX-Redirect"]) == "/user/bob?cursor=x"
    response = await post(client, url, {"post": "sneaky"}, headers={"Referer": "https://evil.example/x"})
    assert login_next(response.headers["Location"]) == "/index"  # never another site
    assert await count(db, select(Post)) == 1
    assert await count(db, select(followers)) == 0


@pytest.mark.parametrize("htmx", [False, True])
async def test_explore_is_readable_by_visitors(client, db, alice, bob, htmx):
    await make_post(db, alice, "hello from alice", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    await make_post(db, bob, "hello from bob", datetime(2024, 1, 2, 3, 5, 5, tzinfo=timezone.utc))
    page = await page_of(client, "/explore", htmx=htmx)
    assert title(page) == "Explore - microblog"
    text = visible(page)
    assert "bob said 2024-01-02 03:05 UTC: hello from bob" in text
    assert "alice said 2024-01-02 03:04 UTC: hello from alice" in text
    assert text.index("hello from bob") < text.index("hello from alice")  # newest first
    assert 'id="post-form"' not in page
    assert "/delete/" not in page  # nobody's delete buttons
    assert 'href="/auth/login"' in page


@pytest.mark.parametrize("htmx", [False, True])
async def test_profile_is_readable_by_visitors(client, db, alice, bob, htmx):
    await follow(db, alice, bob)
    await make_post(db, bob, "bob writes")
    await make_post(db, alice, "alice writes")
    page = await page_of(client, "/user/bob", htmx=htmx)
    assert title(page) == "bob - microblog"
    assert "bob writes" in page and "alice writes" not in page
    assert "1 follower" in visible(page)
    assert "Log in to follow" in page
    link = link_href(page, "Log in to follow")
    assert login_next(link) == "/user/bob"
    assert "/user/bob/follow\"" not in page and "/user/bob/unfollow\"" not in page  # no button, no form
    assert "Edit your profile" not in page


async def test_profile_lookup_ignores_case(client, db, bob):
    page = await page_of(client, "/user/BOB")
    assert title(page) == "bob - microblog"


@pytest.mark.parametrize("url", ["/user/nobody", "/user/nobody/followers", "/user/nobody/following",
                                 "/no/such/page"])
async def test_unknown_profile_is_a_404_page(client, url):
    response = await client.get(url)
    assert response.status_code == 404
    page = await text_of(response)
    assert title(page) == "Page not found - microblog"
    assert "Sorry, that page does not exist." in page

    response = await client.get(url, headers=HTMX)
    assert response.status_code == 404
    assert_varies(response)
    fragment = await text_of(response)
    assert "Sorry, that page does not exist." in fragment
    assert "<html" not in fragment
    assert response.headers["HX-Retarget"] == "#flashes"


# --- home and timeline -------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/index"])
@pytest.mark.parametrize("htmx", [False, True])
async def test_home_shows_own_and_followed_posts(app, db, alice_client, alice, bob, url, htmx):
    carol = await make_user(db, "carol")
    await follow(db, alice, bob)
    await make_post(db, alice, "mine")
    await make_post(db, bob, "followed")
    await make_post(db, carol, "stranger")
    page = await page_of(alice_client, url, htmx=htmx)
    assert title(page) == "Home - microblog"
    text = visible(page)
    assert "Hi, alice!" in text
    assert 'id="post-form"' in page
    assert "bob said" in text and "followed" in text
    assert "alice said" in text and "mine" in text
    assert "stranger" not in text
    assert text.index("followed") < text.index("mine")


async def test_empty_timeline_says_what_to_do(alice_client):
    page = await page_of(alice_client, "/index")
    assert "No posts yet. Write one, or follow people from Explore." in visible(page)


async def test_own_posts_have_a_delete_button_others_do_not(db, alice_client, alice, bob):
    mine = await make_post(db, alice, "mine")
    theirs = await make_post(db, bob, "theirs")
    page = await page_of(alice_client, "/explore")
    assert f'action="/post/{mine.id}/delete"' in page
    assert f'action="/post/{theirs.id}/delete"' not in page


# --- writing posts ------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/post", "/", "/index"])
async def test_post_without_javascript(db, alice_client, url):
    response = await post(alice_client, url, {"post": "  my first post  "})
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    assert_varies(response)
    page = await page_of(alice_client, "/index")
    assert flashes(page) == ["Your post is now live!"]
    assert "alice said" in visible(page)
    assert await db.scalar(select(Post.body)) == "my first post"  # surrounding spaces dropped
    assert textarea_value(page, "post") == ""


@pytest.mark.parametrize("url", ["/post", "/"])
async def test_post_with_htmx(db, alice_client, url):
    response = await post(alice_client, url, {"post": "posted with htmx"}, htmx=True)
    assert response.status_code == 200
    assert_varies(response)
    fragment = await text_of(response)
    assert "<html" not in fragment and "<nav" not in fragment
    saved = await db.scalar(select(Post))
    assert saved.body == "posted with htmx"
    assert post_ids(fragment) == [saved.id]
    assert "alice said" in visible(fragment)
    # A fresh, empty form replaces the one just sent.
    partial = hx_partial(fragment, "#post-form")
    assert partial is not None and partial.get("hx-swap") == "outerHTML"
    assert 'id="post-form"' in partial.inner_html
    assert textarea_value(partial.inner_html, "post") == ""
    assert 'name="csrf_token"' in partial.inner_html
    assert "is-invalid" not in partial.inner_html
    # The flash is not waiting for the next page either.
    assert flashes(await page_of(alice_client, "/index")) == []


@pytest.mark.parametrize("body, message", [
    ("", "Please write something first."),
    ("   \n\t  ", "Please write something first."),
    ("x" * 141, "Posts are at most 140 characters."),
])
async def test_post_refused_keeps_the_text(db, alice_client, body, message):
    response = await post(alice_client, "/post", {"post": body})
    assert response.status_code == 422
    assert_varies(response)
    page = await text_of(response)
    assert title(page) == "Home - microblog"
    assert field_errors(page, "post") == [message]
    assert textarea_value(page, "post") == body.strip()
    assert await count(db, select(Post)) == 0

    response = await post(alice_client, "/post", {"post": body}, htmx=True)
    assert response.status_code == 422
    assert_varies(response)
    assert response.headers["HX-Retarget"] == "#post-form"
    assert response.headers["HX-Reswap"] == "outerHTML"
    fragment = await text_of(response)
    assert fragment.lstrip().startswith('<form id="post-form"')
    assert field_errors(fragment, "post") == [message]
    assert textarea_value(fragment, "post") == body.strip()
    assert await count(db, select(Post)) == 0


async def test_post_of_exactly_140_characters_is_fine(db, alice_client):
    body = "y" * 140
    response = await post(alice_client, "/post", {"post": body})
    assert response.status_code == 303
    response = await post(alice_client, "/post", {"post": body}, htmx=True)
    assert response.status_code == 200
    assert list(await db.scalars(select(Post.body))) == [body, body]


async def test_post_text_is_escaped(db, alice_client):
    evil = "<script>alert('x')</script>"
    fragment = await text_of(await post(alice_client, "/post", {"post": evil}, htmx=True))
    for page in (fragment, await page_of(alice_client, "/explore"), await page_of(alice_client, "/user/alice")):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(" in page
        assert evil in visible(page)


async def test_nickname_is_escaped_in_posts(app, db, client):
    # Registration refuses such a name; an old database might still hold one.
    eve = await make_user(db, "<i>eve</i>", email="eve@example.com")
    await make_post(db, eve, "hi")
    page = await page_of(client, "/explore")
    assert "<i>eve</i>" not in page
    assert "&lt;i&gt;eve&lt;/i&gt;" in page
    assert "<i>eve</i> said" in visible(page)


# --- following -----------------------------------------------------------------------------------


async def test_follow_and_unfollow_with_htmx(db, alice_client, alice, bob):
    response = await post(alice_client, "/follow/bob", htmx=True)
    assert response.status_code == 200
    assert_varies(response)
    box, announced = split_partial(await text_of(response))
    assert box.lstrip().startswith('<div class="follow-box')
    assert "<html" not in box and "alert" not in box
    assert "1 follower" in visible(box)
    assert 'action="/user/bob/unfollow"' in box and 'hx-post="/user/bob/unfollow"' in box
    assert "Unfollow" in visible(box)
    assert "autofocus" in box  # focus stays on the (new) button
    assert "You are now following bob!" in visible(announced)  # the live region reads it out
    assert await is_following(db, alice, bob)

    response = await post(alice_client, "/unfollow/bob", htmx=True)
    assert response.status_code == 200
    box, announced = split_partial(await text_of(response))
    assert box.lstrip().startswith('<div class="follow-box')
    assert "0 followers" in visible(box)
    assert 'action="/user/bob/follow"' in box
    assert "Unfollow" not in visible(box)
    assert "You are not following bob anymore." in visible(announced)
    assert not await is_following(db, alice, bob)
    # Nothing left over for the next page.
    assert flashes(await page_of(alice_client, "/user/bob")) == []


async def test_follow_and_unfollow_without_javascript(db, alice_client, alice, bob):
    response = await post(alice_client, "/follow/bob")
    assert response.status_code == 303
    assert response.headers["Location"] == "/user/bob"
    assert_varies(response)
    page = await page_of(alice_client, "/user/bob")
    assert flashes(page) == ["You are now following bob!"]
    assert "1 follower" in visible(page)
    assert 'action="/user/bob/unfollow"' in page
    assert await is_following(db, alice, bob)
    assert "Following 1 user" in visible(await page_of(alice_client, "/user/alice"))

    response = await post(alice_client, "/unfollow/bob")
    assert response.status_code == 303
    page = await page_of(alice_client, "/user/bob")
    assert flashes(page) == ["You are not following bob anymore."]
    assert "0 followers" in visible(page)
    assert 'action="/user/bob/follow"' in page
    assert not await is_following(db, alice, bob)


async def test_follow_goes_back_to_the_page_it_came_from(alice_client, bob):
    response = await post(alice_client, "/follow/bob", headers={"Referer": "http://localhost/explore"})
    assert response.headers["Location"] == "/explore"
    response = await post(alice_client, "/unfollow/bob?next=/user/bob/followers")
    assert response.headers["Location"] == "/user/bob/followers"
    # Never somewhere else.
    response = await post(alice_client, "/follow/bob?next=https://evil.example/",
                          headers={"Referer": "https://evil.example/page"})
    assert response.headers["Location"] == "/user/bob"


async def test_following_twice_is_harmless(db, alice_client, alice, bob):
    for _ in range(2):
        response = await post(alice_client, "/follow/BOB")
        assert response.status_code == 303
        assert flashes(await page_of(alice_client, "/user/bob")) == ["You are now following bob!"]
    response = await post(alice_client, "/follow/bob", htmx=True)
    assert "1 follower" in visible(await text_of(response))
    assert await count(db, select(followers)) == 1
    for _ in range(2):
        assert (await post(alice_client, "/unfollow/bob")).status_code == 303
    assert await count(db, select(followers)) == 0


async def test_cannot_follow_oneself(db, alice_client, alice):
    response = await post(alice_client, "/follow/alice")
    assert response.status_code == 303
    assert response.headers["Location"] == "/user/alice"
    assert flashes(await page_of(alice_client, "/user/alice")) == ["You cannot follow yourself!"]
    response = await post(alice_client, "/follow/alice", htmx=True)
    assert response.status_code == 400
    assert_varies(response)
    assert "You cannot follow yourself!" in await text_of(response)
    assert response.headers["HX-Retarget"] == "#flashes"
    assert await count(db, select(followers)) == 0
    page = await page_of(alice_client, "/user/alice")
    assert "/user/alice/follow\"" not in page  # no button for oneself
    assert "Edit your profile" in page


@pytest.mark.parametrize("action", ["follow", "unfollow"])
async def test_follow_unknown_user(db, alice_client, action):
    response = await post(alice_client, f"/{action}/nobody")
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    assert flashes(await page_of(alice_client, "/index")) == ["User nobody not found."]
    response = await post(alice_client, f"/{action}/nobody", htmx=True)
    assert response.status_code == 404
    assert "User nobody not found." in await text_of(response)
    response = await alice_client.get(f"/{action}/nobody")
    assert response.status_code == 303
    assert flashes(await page_of(alice_client, "/index")) == ["User nobody not found."]


async def test_follow_unknown_user_name_is_escaped(alice_client):
    response = await post(alice_client, "/follow/<b>x")
    assert response.status_code == 303
    page = await page_of(alice_client, "/index")
    assert "<b>x" not in page
    assert flashes(page) == ["User <b>x not found."]  # as text: unescaped, <b> would have been a tag


@pytest.mark.parametrize("htmx", [False, True])
async def test_get_follow_asks_first_and_changes_nothing(db, alice_client, alice, bob, htmx):
    page = await page_of(alice_client, "/follow/bob", htmx=htmx)
    assert title(page) == "Follow bob - microblog"
    assert "Do you want to follow bob?" in visible(page)
    assert re.search(r'<form method="post" action="/user/bob/follow">', page)
    assert 'name="csrf_token"' in page
    assert not await is_following(db, alice, bob)

    await follow(db, alice, bob)
    page = await page_of(alice_client, "/unfollow/bob", htmx=htmx)
    assert title(page) == "Unfollow bob - microblog"
    assert "Do you want to stop following bob?" in visible(page)
    assert re.search(r'<form method="post" action="/user/bob/unfollow">', page)
    assert await is_following(db, alice, bob)


# --- followers and following lists ---------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
async def test_followers_and_following_lists(app, db, client, alice, bob, htmx):
    carol = await make_user(db, "carol")
    await follow(db, alice, bob)
    await follow(db, carol, bob)
    await follow(db, bob, carol)

    page = await page_of(client, "/user/bob/followers", htmx=htmx)
    assert title(page) == "Followers of bob - microblog"
    rows = user_rows(page)
    assert rows == ["carol", "alice"]  # latest first
    assert "Back to bob" in visible(page)
    assert page.count("Log in to follow") == 2

    page = await page_of(client, "/user/bob/following", htmx=htmx)
    assert title(page) == "Followed by bob - microblog"
    assert user_rows(page) == ["carol"]
    assert "1 follower" in visible(page)  # carol's follower count

    page = await page_of(client, "/user/alice/followers", htmx=htmx)
    assert "Nobody yet." in visible(page)


async def test_user_lists_show_the_viewers_buttons(app, db, alice_client, alice, bob):
    carol = await make_user(db, "carol")
    await follow(db, bob, alice)
    await follow(db, carol, alice)
    await follow(db, alice, carol)
    page = await page_of(alice_client, "/user/alice/followers")
    assert 'action="/user/carol/unfollow"' in page  # alice follows carol
    assert 'action="/user/bob/follow"' in page  # but not bob
    page = await page_of(alice_client, "/user/carol/followers")
    assert "/user/alice/follow\"" not in page and "/user/alice/unfollow\"" not in page  # no button for oneself


# --- deleting posts ------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
async def test_get_delete_asks_first_and_changes_nothing(db, alice_client, alice, htmx):
    mine = await make_post(db, alice, "to be or not")
    page = await page_of(alice_client, f"/delete/{mine.id}", htmx=htmx)
    assert title(page) == "Delete post - microblog"
    assert "Do you want to delete this post?" in visible(page)
    assert "to be or not" in visible(page)
    assert f'<form method="post" action="/post/{mine.id}/delete">' in page
    assert await count(db, select(Post)) == 1


@pytest.mark.parametrize("url", ["/delete/{id}", "/post/{id}/delete"])
async def test_delete_without_javascript(db, alice_client, alice, url):
    mine = await make_post(db, alice, "short-lived")
    response = await post(alice_client, url.format(id=mine.id))
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    assert_varies(response)
    page = await page_of(alice_client, "/index")
    assert flashes(page) == ["Your post has been deleted."]
    assert "short-lived" not in page
    assert await count(db, select(Post)) == 0


async def test_delete_goes_back_to_the_page_it_came_from(db, alice_client, alice):
    mine = await make_post(db, alice, "short-lived")
    response = await post(alice_client, f"/delete/{mine.id}", headers={"Referer": "http://localhost/user/alice"})
    assert response.headers["Location"] == "/user/alice"


async def test_delete_with_htmx(db, alice_client, alice):
    mine = await make_post(db, alice, "short-lived")
    response = await post(alice_client, f"/delete/{mine.id}", htmx=True)
    assert response.status_code == 200
    assert_varies(response)
    fragment = await text_of(response)
    assert "<html" not in fragment and "<article" not in fragment
    assert "Your post has been deleted." in visible(fragment)
    assert '<hx-partial hx-target="#flashes"' in fragment
    assert await count(db, select(Post)) == 0
    assert flashes(await page_of(alice_client, "/index")) == []


@pytest.mark.parametrize("htmx", [False, True])
async def test_only_the_author_may_delete(db, alice_client, bob, htmx):
    theirs = await make_post(db, bob, "bob's words")
    for url in (f"/delete/{theirs.id}", f"/post/{theirs.id}/delete"):
        response = await post(alice_client, url, htmx=htmx)
        assert response.status_code == 403
        assert_varies(response)
        assert "You are not allowed to do that." in await text_of(response)
    response = await alice_client.get(f"/delete/{theirs.id}", headers=HTMX if htmx else {})
    assert response.status_code == 403
    assert await count(db, select(Post)) == 1


async def test_delete_unknown_post(db, alice_client, alice):
    response = await post(alice_client, "/delete/999")
    assert response.status_code == 303
    assert response.headers["Location"] == "/index"
    assert flashes(await page_of(alice_client, "/index")) == ["Post not found."]
    response = await post(alice_client, "/delete/999", htmx=True)
    assert response.status_code == 404
    assert "Post not found." in await text_of(response)
    assert response.headers["HX-Retarget"] == "#flashes"
    # Deleting twice (two tabs): the second time the post is simply gone.
    mine = await make_post(db, alice, "once")
    assert (await post(alice_client, f"/delete/{mine.id}")).status_code == 303
    await alice_client.get("/index")  # read the flash
    assert (await post(alice_client, f"/delete/{mine.id}")).status_code == 303
    assert flashes(await page_of(alice_client, "/index")) == ["Post not found."]


# --- editing the profile -------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
async def test_edit_profile_shows_current_values(db, alice_client, alice, htmx):
    alice.about_me = "I like tea & cake"
    await db.commit()
    page = await page_of(alice_client, "/edit_profile", htmx=htmx)
    assert title(page) == "Edit Profile - microblog"
    assert input_value(page, "nickname") == "alice"
    assert textarea_value(page, "about_me") == "I like tea & cake"


async def test_edit_profile_saves(app, db, alice_client, alice):
    response = await post(alice_client, "/edit_profile", {"nickname": "alice_w", "about_me": " Down the rabbit hole "})
    assert response.status_code == 303
    assert response.headers["Location"] == "/edit_profile"
    page = await page_of(alice_client, "/edit_profile")
    assert flashes(page) == ["Your changes have been saved."]
    assert input_value(page, "nickname") == "alice_w"
    assert textarea_value(page, "about_me") == "Down the rabbit hole"
    async with app.extensions["db_sessionmaker"]() as other:
        saved = await other.get(User, alice.id)
        assert (saved.nickname, saved.about_me) == ("alice_w", "Down the rabbit hole")
    page = await page_of(alice_client, "/user/alice_w")
    assert "Down the rabbit hole" in visible(page)
    assert (await alice_client.get("/user/alice")).status_code == 404

    # Clearing "about me" removes it from the profile.
    assert (await post(alice_client, "/edit_profile", {"nickname": "alice_w", "about_me": ""})).status_code == 303
    assert "Down the rabbit hole" not in await page_of(alice_client, "/user/alice_w")


@pytest.mark.parametrize("wanted", ["alice", "Alice", "ALICE"])
async def test_edit_profile_keeps_or_recases_own_nickname(app, db, alice_client, alice, wanted):
    response = await post(alice_client, "/edit_profile", {"nickname": wanted, "about_me": "hi"})
    assert response.status_code == 303
    assert flashes(await page_of(alice_client, "/edit_profile")) == ["Your changes have been saved."]
    async with app.extensions["db_sessionmaker"]() as other:
        assert (await other.get(User, alice.id)).nickname == wanted
    assert title(await page_of(alice_client, "/user/alice")) == f"{wanted} - microblog"


@pytest.mark.parametrize("wanted", ["bob", "BOB"])
async def test_edit_profile_nickname_taken_suggests_another(app, db, alice_client, alice, bob, wanted):
    await make_user(db, "bob2")
    response = await post(alice_client, "/edit_profile", {"nickname": wanted, "about_me": "typed text"})
    assert response.status_code == 422
    assert_varies(response)
    page = await text_of(response)
    assert field_errors(page, "nickname") == [f"This nickname is taken. How about {wanted}3?"]
    assert input_value(page, "nickname") == wanted
    assert textarea_value(page, "about_me") == "typed text"
    async with app.extensions["db_sessionmaker"]() as other:
        assert (await other.get(User, alice.id)).nickname == "alice"
    # The navigation still links to the real profile.
    assert 'href="/user/alice">Profile</a>' in page


async def test_edit_profile_nickname_taken_simple_suggestion(db, alice_client, bob):
    response = await post(alice_client, "/edit_profile", {"nickname": "bob", "about_me": ""})
    assert response.status_code == 422
    assert "How about bob2?" in field_errors(await text_of(response), "nickname")[0]


@pytest.mark.parametrize("nickname, about_me, field, message", [
    ("alice", "a" * 141, "about_me", "About me is at most 140 characters."),
    ("a" * 65, "still here", "nickname", "Nicknames are at most 64 characters."),
    ("bad name!", "still here", "nickname", "Please use only letters, digits, dots and underscores."),
    ("<script>", "still here", "nickname", "Please use only letters, digits, dots and underscores."),
    ("", "still here", "nickname", "This field is required."),
])
@pytest.mark.parametrize("htmx", [False, True])
async def test_edit_profile_refused_keeps_what_was_typed(app, db, alice_client, alice, nickname, about_me,
                                                         field, message, htmx):
    response = await post(alice_client, "/edit_profile", {"nickname": nickname, "about_me": about_me}, htmx=htmx)
    assert response.status_code == 422
    assert_varies(response)
    page = await text_of(response)
    assert message in field_errors(page, field)
    assert input_value(page, "nickname") == nickname
    assert textarea_value(page, "about_me") == about_me
    assert "<script>" not in page.split("<body", 1)[1].replace('<script src=', '')
    async with app.extensions["db_sessionmaker"]() as other:
        saved = await other.get(User, alice.id)
        assert (saved.nickname, saved.about_me) == ("alice", None)


async def test_edit_profile_64_character_nickname_is_fine(alice_client):
    response = await post(alice_client, "/edit_profile", {"nickname": "a" * 64, "about_me": "b" * 140})
    assert response.status_code == 303


async def test_about_me_is_escaped(alice_client):
    evil = "<script>alert(1)</script>"
    assert (await post(alice_client, "/edit_profile", {"nickname": "alice", "about_me": evil})).status_code == 303
    for page in (await page_of(alice_client, "/user/alice"), await page_of(alice_client, "/edit_profile")):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- old addresses ----------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new", [
    ("/login", "/auth/login"),
    ("/login?next=/explore", "/auth/login?next=/explore"),
    ("/logout", "/auth/logout"),
    ("/edit", "/edit_profile"),
    ("/index/3", "/index"),
    ("/user/bob/2", "/user/bob"),
])
async def test_legacy_urls_redirect(client, old, new):
    response = await client.get(old)
    assert response.status_code == 301
    location = urlsplit(response.headers["Location"])
    expected = urlsplit(new)
    assert (location.path, parse_qs(location.query)) == (expected.path, parse_qs(expected.query))


async def test_legacy_logout_asks_then_post_logs_out(alice_client):
    response = await alice_client.get("/logout")
    page = await text_of(await alice_client.get(response.headers["Location"]))
    assert title(page) == "Log out - microblog"
    assert "Do you want to log out?" in visible(page)
    assert '<form method="post" action="/auth/logout">' in page
    assert (await alice_client.get("/index")).status_code == 200  # asking changed nothing
    response = await post(alice_client, "/auth/logout")
    assert response.status_code == 303
    assert (await alice_client.get("/index")).status_code == 302


# --- titles ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("/", "Home"),
    ("/index", "Home"),
    ("/explore", "Explore"),
    ("/user/bob", "bob"),
    ("/user/bob/followers", "Followers of bob"),
    ("/user/bob/following", "Followed by bob"),
    ("/edit_profile", "Edit Profile"),
    ("/follow/bob", "Follow bob"),
    ("/unfollow/bob", "Unfollow bob"),
])
async def test_page_titles(alice_client, bob, url, expected):
    assert title(await page_of(alice_client, url)) == f"{expected} - microblog"


# --- CSRF ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/post", "/", "/follow/bob", "/unfollow/bob", "/delete/1", "/edit_profile"])
async def test_post_without_csrf_token_is_refused(db, alice_client, alice, bob, url):
    mine = await make_post(db, alice, "still here")
    assert mine.id == 1
    for form in ({"post": "forged", "nickname": "mallory"},
                 {"post": "forged", "nickname": "mallory", "csrf_token": "wrong"}):
        response = await alice_client.post(url, form=form)
        assert response.status_code == 400
        page = await text_of(response)
        assert CSRF_MESSAGE in page
        assert title(page) == "Bad request - microblog"
    response = await alice_client.post(url, form={"post": "forged"}, headers={**HTMX, "X-CSRFToken": "wrong"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#flashes"
    assert CSRF_MESSAGE in await text_of(response)
    assert list(await db.scalars(select(Post.body))) == ["still here"]
    assert await count(db, select(followers)) == 0
    assert await db.scalar(select(User.nickname).where(User.id == alice.id)) == "alice"


async def test_htmx_post_with_token_in_header_is_accepted(db, alice_client):
    response = await post(alice_client, "/post", {"post": "via header"}, htmx=True)
    assert response.status_code == 200
    assert await db.scalar(select(Post.body)) == "via header"


async def test_pages_carry_the_token_for_forms_and_htmx(alice_client, bob):
    page = await page_of(alice_client, "/user/bob")
    token = input_value(page, "csrf_token")
    assert f'hx-headers:inherited=\'{{"X-CSRFToken": "{token}"}}\'' in page
    # The token from the page works, as a form field and as a header.
    response = await alice_client.post("/follow/bob", form={"csrf_token": token})
    assert response.status_code == 303
    response = await alice_client.post("/unfollow/bob", headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 200


# --- security headers -------------------------------------------------------------------------------------

async def test_security_headers_on_every_kind_of_response(db, alice_client, bob):
    responses = [
        await alice_client.get("/index"),
        await alice_client.get("/explore", headers=HTMX),
        await alice_client.get("/user/nobody"),
        await alice_client.get("/user/nobody", headers=HTMX),
        await post(alice_client, "/follow/bob"),
        await post(alice_client, "/unfollow/bob", htmx=True),
        await post(alice_client, "/post", {"post": ""}, htmx=True),
        await alice_client.post("/post", form={"post": "no token"}),
        await alice_client.get("/login"),
    ]
    for response in responses:
        csp = response.headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'self'",
                          "frame-ancestors 'none'"):
            assert directive in [d.strip() for d in csp.split(";")], (response.status_code, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


async def test_pages_use_no_inline_scripts(alice_client, bob):
    # script-src 'self' would block them.
    for url in ("/index", "/explore", "/user/bob", "/edit_profile"):
        page = await page_of(alice_client, url)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], url
        assert not re.search(r"\son(click|load|submit|change)=", page), url


# --- every route, with and without htmx: status and Vary --------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
async def test_every_route_answers_and_varies_on_htmx(db, alice_client, alice, bob, htmx):
    mine = await make_post(db, alice, "mine")
    headers = HTMX if htmx else {}
    gets = {
        "/": 200, "/index": 200, "/explore": 200, "/user/bob": 200, "/user/bob/followers": 200,
        "/user/bob/following": 200, "/follow/bob": 200, "/unfollow/bob": 200, f"/delete/{mine.id}": 200,
        "/edit_profile": 200, "/user/nobody": 404, "/explore?cursor=x": 200,
    }
    for url, status in gets.items():
        response = await alice_client.get(url, headers=headers)
        assert response.status_code == status, url
        assert_varies(response)
    posts = [
        ("/post", {"post": "one"}, 200 if htmx else 303),
        ("/", {"post": "two"}, 200 if htmx else 303),
        ("/index", {"post": "three"}, 200 if htmx else 303),
        ("/follow/bob", {}, 200 if htmx else 303),
        ("/unfollow/bob", {}, 200 if htmx else 303),
        (f"/delete/{mine.id}", {}, 200 if htmx else 303),
        ("/edit_profile", {"nickname": "alice", "about_me": ""}, 303),
    ]
    for url, data, status in posts:
        response = await post(alice_client, url, data, htmx=htmx)
        assert response.status_code == status, url
        assert_varies(response)


# --- number of SQL statements ---------------------------------------------------------------------------

class StatementCounter:
    def __init__(self, app):
        self.engine = app.extensions["db_engine"].sync_engine
        self.statements: list[str] = []

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    async def measure(self, client, url: str) -> int:
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._count)
        try:
            response = await client.get(url)
        finally:
            event.remove(self.engine, "before_cursor_execute", self._count)
        assert response.status_code == 200, url
        return len(self.statements)


async def test_statement_count_does_not_grow_with_posts_or_authors(app, db, client, alice):
    counter = StatementCounter(app)
    await login(client, "alice")
    await client.get("/explore")  # the first visit after login records last_seen: not what is measured here

    authors = [await make_user(db, f"author{i}") for i in range(6)]
    for author in authors:
        await follow(db, alice, author)
    await follow(db, alice, authors[0])
    await follow(db, authors[0], alice)

    urls = ["/explore", "/index", "/user/author0", "/user/alice", "/user/author0/followers",
            "/user/alice/following"]
    # One post by one author…
    await make_post(db, authors[0], "lonely post")
    few = {url: await counter.measure(client, url) for url in urls}
    # …then full pages of posts by many different authors.
    for i, author in enumerate(authors * 2):
        await make_post(db, author, f"post {i}")
    for i in range(5):
        await make_post(db, authors[0], f"more {i}")
    many = {url: await counter.measure(client, url) for url in urls}

    assert many == few, (few, many)
    for url, n in many.items():
        assert n <= 6, (url, n, counter.statements)

    # Visitors too.
    await post(client, "/auth/logout")
    for url in urls:
        if url in ("/index",):
            continue
        assert await counter.measure(client, url) <= 5, url
