"""Keyset pagination: cursors, forged cursors, and pages that neither skip nor repeat under inserts."""
import base64
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from microblog.db import utcnow
from microblog.follows.models import followers
from microblog.paging import Cursor

from conftest import follow, login, make_post, make_user, text_of, unfollow
from helpers import HTMX, newer_link, older_link, page_of, post_ids, sentinel, user_rows

PER_PAGE = 3  # conftest.TEST_CONFIG["POSTS_PER_PAGE"]


def cursor_of(url: str) -> Cursor | None:
    match = re.search(r"[?&]cursor=([^&]+)", url)
    return Cursor.decode(match.group(1)) if match else None


def b64(raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def make_history(db, author, count: int = 10):
    """`count` posts in the past, newest last; three of them share one timestamp (ties go by id)."""
    base = (utcnow() - timedelta(days=1)).replace(microsecond=0)
    stamps = [base + timedelta(seconds=i, microseconds=i * 7) for i in range(count)]
    if count >= 7:
        stamps[4] = stamps[5] = stamps[6] = base + timedelta(seconds=5)  # microsecond 0, and ties
    return [await make_post(db, author, f"old post {i}", stamp) for i, stamp in enumerate(stamps)]


def newest_first(posts) -> list[int]:
    return [p.id for p in sorted(posts, key=lambda p: (p.timestamp, p.id), reverse=True)]


# --- cursors ------------------------------------------------------------------------

@pytest.mark.parametrize("newer", [False, True])
def test_cursor_round_trip_keeps_microseconds(newer):
    when = datetime(2024, 5, 6, 7, 8, 9, 123457, tzinfo=timezone.utc)
    cursor = Cursor(when, 42, newer)
    token = cursor.encode()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)  # safe in a URL as it is
    decoded = Cursor.decode(token)
    assert decoded == cursor
    assert decoded.timestamp == when and decoded.timestamp.microsecond == 123457
    assert decoded.timestamp.utcoffset() == timedelta(0)
    assert decoded.newer is newer

    # One microsecond apart is another position.
    later = Cursor(when + timedelta(microseconds=1), 42, newer)
    assert later.encode() != token
    assert Cursor.decode(later.encode()).timestamp - decoded.timestamp == timedelta(microseconds=1)
    # The same instant written in another zone is the same cursor.
    elsewhere = when.astimezone(timezone(timedelta(hours=-7)))
    assert Cursor.decode(Cursor(elsewhere, 42, newer).encode()) == cursor


def test_cursor_of_a_real_timestamp_round_trips():
    now = utcnow()
    assert Cursor.decode(Cursor(now, 2**31 - 1).encode()) == Cursor(now, 2**31 - 1)
    old = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc)
    assert Cursor.decode(Cursor(old, 1).encode()) == Cursor(old, 1)


FORGED = [
    None,
    "",
    "garbage",
    "!!!!",
    "%%%",
    "not a cursor at all",
    "A" * 500,
    b64(b"\xff\xfe\x00\x80"),
    b64("hello world"),
    b64("x1700000000000000:4"),
    b64("o1700000000000000"),
    b64("o1700000000000000:1:2"),
    b64("oabc:1"),
    b64("o1700000000000000:abc"),
    b64("o:"),
    b64("o1.5:2"),
    b64("o"),
    b64(""),
    b64("o" + "9" * 40 + ":1"),           # a year past 9999
    b64("o1700000000000000:" + "9" * 40),  # an id no database column holds
    b64("o1700000000000000:" + str(2**31)),
    b64("o1700000000000000:" + str(2**63)),
    b64("o-1700000000000000:5"),           # negative numbers
    b64("o1700000000000000:-5"),
    b64("n-1:-1"),
]


@pytest.mark.parametrize("token", FORGED)
def test_forged_cursor_decodes_to_none(token):
    assert Cursor.decode(token) is None


def forged_urls(nickname: str) -> list[str]:
    return [f"{path}?cursor={token}" for token in FORGED if token
            for path in ("/explore", "/index", f"/user/{nickname}",
                         f"/user/{nickname}/followers", f"/user/{nickname}/following")]


@pytest.mark.parametrize("htmx", [False, True])
async def test_forged_cursor_shows_the_first_page(app, db, client, htmx):
    alice = await make_user(db, "alice")
    bob = await make_user(db, "bob")
    await follow(db, alice, bob)
    await follow(db, bob, alice)
    posts = await make_history(db, alice, 5)
    newest = newest_first(posts)[:PER_PAGE]
    await login(client, "alice")
    for url in forged_urls("alice"):
        response = await client.get(url, headers=HTMX if htmx else {})
        assert response.status_code == 200, url
        page = await text_of(response)
        if "/follow" in url:
            assert user_rows(page) == ["bob"], url
        else:
            assert post_ids(page) == newest, url
            assert newer_link(page) is None, url  # the first page has nothing newer
            assert older_link(page) is not None, url


# --- the keyset invariant ---------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
async def test_paging_while_posts_arrive_neither_skips_nor_repeats(app, db, client, htmx):
    """Walk /explore page by page (links without JavaScript, the sentinel with htmx) while new posts arrive."""
    alice = await make_user(db, "alice")
    bob = await make_user(db, "bob")
    history = await make_history(db, alice, 10) + await make_history(db, bob, 4)
    at_start = newest_first(history)
    assert len(at_start) == 14

    page = await page_of(client, "/explore")
    seen = post_ids(page)
    assert seen == at_start[:PER_PAGE]
    arrived = []
    pages = 1
    while True:
        # Someone posts between two page loads.
        arrived.append((await make_post(db, bob if pages % 2 else alice, f"new {pages}")).id)
        url = sentinel(page) if htmx else older_link(page)
        if url is None:
            break
        assert url.startswith("/explore?cursor=")
        page = await page_of(client, url, htmx=htmx)
        if htmx:
            assert "<html" not in page and "<nav" not in page  # only the next page and its sentinel
        ids = post_ids(page)
        assert 0 < len(ids) <= PER_PAGE
        seen += ids
        pages += 1

    assert len(seen) == len(set(seen)), "a post was shown twice"
    assert seen == at_start, "every post there at the start, exactly once, newest first"
    assert not set(arrived) & set(seen)
    assert pages == 5  # 14 posts, 3 a page

    # The new posts are on the first page now.
    page = await page_of(client, "/explore")
    assert post_ids(page) == list(reversed(arrived))[:PER_PAGE]


async def test_paging_a_profile_and_the_timeline(app, db, client):
    alice = await make_user(db, "alice")
    bob = await make_user(db, "bob")
    carol = await make_user(db, "carol")
    await follow(db, alice, bob)
    mine = await make_history(db, alice, 4)
    bobs = await make_history(db, bob, 4)
    await make_history(db, carol, 4)  # not followed: never on alice's timeline
    await login(client, "alice")

    for start, expected in (("/user/bob", newest_first(bobs)), ("/index", newest_first(mine + bobs))):
        url, seen = start, []
        while url is not None:
            page = await page_of(client, url)
            seen += post_ids(page)
            url = older_link(page)
            if url is not None:
                assert url.startswith(start + "?cursor=")
        assert seen == expected, start


async def test_followers_list_pages_by_follow_time(app, db, client):
    bob = await make_user(db, "bob")
    fans = [await make_user(db, f"fan{i}") for i in range(7)]
    same_moment = utcnow() - timedelta(hours=1)
    for i, fan in enumerate(fans):
        # Three of them followed at the very same moment: ties go by user id.
        when = same_moment if i in (2, 3, 4) else same_moment + timedelta(minutes=i)
        await db.execute(insert(followers).values(follower_id=fan.id, followed_id=bob.id, timestamp=when))
    await db.commit()
    expected = [f.nickname for f in sorted(
        fans, key=lambda f: (same_moment if fans.index(f) in (2, 3, 4) else same_moment + timedelta(minutes=fans.index(f)), f.id),
        reverse=True)]

    for htmx in (False, True):
        page = await page_of(client, "/user/bob/followers")
        seen = user_rows(page)
        assert len(seen) == PER_PAGE
        newcomers = []
        while (url := sentinel(page) if htmx else older_link(page)) is not None:
            # A new follower between two page loads changes nothing already listed.
            newcomers.append(await make_user(db, f"late{len(seen)}{int(htmx)}"))
            await follow(db, newcomers[-1], bob)
            page = await page_of(client, url, htmx=htmx)
            seen += user_rows(page)
        assert seen == expected
        assert len(newcomers) == 2
        page = await page_of(client, "/user/bob/followers")
        assert user_rows(page) == [n.nickname for n in reversed(newcomers)] + expected[:1]
        for newcomer in newcomers:
            await unfollow(db, newcomer, bob)


# --- going back ----------------------------------------------------------------------------

async def test_newer_posts_links_go_back_page_by_page(app, db, client):
    alice = await make_user(db, "alice")
    posts = newest_first(await make_history(db, alice, 9))

    first = await page_of(client, "/explore")
    assert post_ids(first) == posts[0:3]
    assert newer_link(first) is None
    second = await page_of(client, older_link(first))
    assert post_ids(second) == posts[3:6]
    third = await page_of(client, older_link(second))
    assert post_ids(third) == posts[6:9]
    assert older_link(third) is None  # exactly nine posts: nothing older

    back = newer_link(third)
    assert back is not None and cursor_of(back).newer
    back_to_second = await page_of(client, back)
    assert post_ids(back_to_second) == posts[3:6]
    assert older_link(back_to_second) == older_link(second)
    back_to_first = await page_of(client, newer_link(back_to_second))
    assert post_ids(back_to_first) == posts[0:3]
    assert newer_link(back_to_first) is None  # the newest page: no way further up
    assert post_ids(await page_of(client, older_link(back_to_first))) == posts[3:6]

    # Posts written since: "Newer posts" from the top of the old first page finds them.
    fresh = [(await make_post(db, alice, f"fresh {i}")).id for i in range(2)]
    again = await page_of(client, newer_link(back_to_second))
    assert post_ids(again) == posts[0:3]
    up = newer_link(again)
    assert up is not None
    newest = await page_of(client, up)
    assert post_ids(newest) == list(reversed(fresh))
    assert newer_link(newest) is None
    assert post_ids(await page_of(client, older_link(newest))) == posts[0:3]


async def test_past_the_end_is_an_empty_page_not_an_error(app, db, client):
    alice = await make_user(db, "alice")
    posts = await make_history(db, alice, 4)
    oldest = min(posts, key=lambda p: (p.timestamp, p.id))
    past = Cursor(oldest.timestamp, oldest.id).encode()

    first = await page_of(client, "/explore")
    second = await page_of(client, older_link(first))
    assert post_ids(second) == [oldest.id]
    assert older_link(second) is None and sentinel(second) is None

    page = await page_of(client, f"/explore?cursor={past}")
    assert post_ids(page) == []
    assert "Nothing more to show." in page
    assert 'href="/explore">Back to the newest</a>' in page
    assert older_link(page) is None and newer_link(page) is None

    fragment = await page_of(client, f"/explore?cursor={past}", htmx=True)
    assert post_ids(fragment) == [] and sentinel(fragment) is None
    assert "<html" not in fragment

    for url in (f"/user/alice?cursor={past}", f"/user/alice/followers?cursor={past}"):
        page = await page_of(client, url)
        assert post_ids(page) == [] and user_rows(page) == []
        assert "Back to the newest" in page


async def test_an_empty_site_says_so(app, client):
    page = await page_of(client, "/explore")
    assert post_ids(page) == []
    assert "Nothing here yet." in page
    assert older_link(page) is None and newer_link(page) is None
    assert "Back to the newest" not in page
