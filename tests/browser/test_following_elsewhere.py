"""Following someone on another server in Chromium, with htmx and with JavaScript off: she looks
bob up by his profile address from the search box (active search fetches nothing; Enter does),
lands on his profile here, asks to follow ("Requested", "Cancel request"), his server accepts
("Unfollow"), his post reaches her home timeline made safe (nothing of its HTML runs, and the
page breaks no rule of the Content-Security-Policy), and she unfollows or takes the request back;
the Follow and the Undo reach his server.

The site runs with federation on (a server of this module's own, BASE_URL its own loopback
address) and talks to `Elsewhere` (tests/federation/conftest.py), a real HTTP server on loopback
that serves bob's actor document and WebFinger and keeps what its inboxes receive. bob is looked
up by his actor URL: a handle would be looked up over https, which `Elsewhere` does not speak."""
import asyncio
import re
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import expect

from federation.conftest import Elsewhere

from .conftest import _servers
from .support import assert_not_reloaded, free_port, live_server, mark_page, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def federating_server():
    """A server of this module's own: federation on, private addresses allowed, and BASE_URL its
    own address, so that actor ids, key ids and the inbox's signed URL are the ones tests use."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="microblog-federating-") as workdir:
        with live_server(Path(workdir), port=port, BASE_URL=f"http://127.0.0.1:{port}", FEDERATION="1",
                         FEDERATION_ALLOW_PRIVATE_ADDRESSES="1") as running:
            _servers.append(running)  # its log in the report of a failure
            yield running
            _servers.remove(running)


@pytest.fixture
def served(federating_server):
    """The federating server, whose log must show no error from the test (new_page checks only
    the shared server's). Put it before `new_page`: its pages close first."""
    start = federating_server.log.stat().st_size
    yield federating_server
    assert federating_server.errors_since(start) == []


@pytest.fixture
def elsewhere():
    server = Elsewhere()
    yield server
    server.close()


async def eventually(found, what: str, timeout: float = 10):
    """Setup and checks of the server's background work (deliveries, the inbox's jobs), not page
    synchronisation: `found()` until it is truthy."""
    deadline = time.monotonic() + timeout
    while not (result := await found()):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)
    return result


async def sent(elsewhere, kind: str, timeout: float = 10) -> dict:
    """The activity of type `kind` that reached elsewhere's inboxes (the only one)."""
    async def one():
        found = [activity for _, _, activity in elsewhere.received if activity.get("type") == kind]
        assert len(found) <= 1, found
        return found[0] if found else None
    return await eventually(one, f"no {kind} reached elsewhere: {elsewhere.received}", timeout)


async def accepted_by(elsewhere, bob: str, follow: dict, served, page, nickname: str) -> None:
    """bob's server accepts: an Accept signed as bob, POSTed over HTTP to the app's /inbox as
    another server would (the signature covers the Host and the path the app sees); then the
    inbox's job has made her a follower (her "following" page names him)."""
    inbox = f"{served.url}/inbox"
    accept = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{bob}#accepts/1",
              "type": "Accept", "actor": bob, "object": follow}
    body, headers = elsewhere.signed(bob, inbox, accept)
    async with httpx.AsyncClient() as client:
        response = await client.post(inbox, content=body, headers=headers)
    assert response.status_code == 202, response.text
    following = f"/user/{nickname}/following"

    async def listed():
        return f"@bob@{elsewhere.host}" in await (await page.request.get(following)).text()
    await eventually(listed, "the Accept was not handled")


async def his_post_arrives(elsewhere, bob: str, served, page, words: str) -> None:
    """bob's server delivers a public post of his, with HTML no page may run (a script, an image
    with onerror, a style, a javascript: link), over HTTP to the app's /inbox; then it is hers to
    read (the inbox's job has stored it)."""
    inbox = f"{served.url}/inbox"
    note_id = f"{bob}/notes/{words.split()[0].lower()}"
    html = (f'<p>{words} <script>document.title = "pwned"</script><img src="x" onerror="document.title=\'pwned\'">'
            f'<span style="color: red">styled</span> <a href="javascript:alert(1)">bad</a> '
            f'<a href="https://example.org/menu">the menu</a></p>')
    create = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}#create", "type": "Create",
              "actor": bob, "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{bob}/followers"],
              "object": {"id": note_id, "type": "Note", "attributedTo": bob, "content": html, "url": note_id,
                         "published": "2026-12-06T09:00:00Z", "to": ["https://www.w3.org/ns/activitystreams#Public"],
                         "cc": [f"{bob}/followers"]}}
    body, headers = elsewhere.signed(bob, inbox, create)
    async with httpx.AsyncClient() as client:
        response = await client.post(inbox, content=body, headers=headers)
    assert response.status_code == 202, response.text

    async def stored():
        return words in await (await page.request.get("/index")).text()
    await eventually(stored, "his post was not stored")


async def reads_his_post(page, words: str) -> None:
    """Her home timeline shows his post, made safe: its words and its safe link, nothing run."""
    await page.goto("/index")
    post = page.locator("article.post", has_text=words)
    await expect(post).to_be_visible()
    await expect(post.get_by_role("link", name="the menu")).to_have_attribute("rel", "nofollow noopener noreferrer ugc")
    await expect(post.locator("script, img[onerror], [style], a[href^='javascript']")).to_have_count(0)
    assert await page.title() != "pwned"


async def on_bobs_profile(page, elsewhere) -> None:
    """Her browser shows bob's profile here: his name, his handle, the way to his own profile."""
    await expect(page).to_have_url(re.compile(rf"/user/bob@{re.escape(elsewhere.host)}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Bob")
    await expect(page.get_by_text(f"@bob@{elsewhere.host}", exact=True)).to_be_visible()
    theirs = page.get_by_role("link", name=f"Their profile and older posts on {elsewhere.host}")
    await expect(theirs).to_have_attribute("href", f"{elsewhere.url}/@bob")


def follow_box(page):
    return page.locator(".follow-box")


async def test_following_someone_elsewhere_with_htmx(served, elsewhere, new_page):
    bob = elsewhere.person("bob")
    handle = f"bob@{elsewhere.host}"
    page, _ = await new_page(js=True, on=served)
    alice = await sign_up(page, "alice")

    await page.goto("/search")
    await page.wait_for_load_state("networkidle")  # htmx listens to the box
    search = page.get_by_label("Search posts")
    await search.press_sequentially(bob, delay=10)  # active search, while she types
    await expect(page.locator("#search-results")).to_contain_text("Press Enter to look this up on its server.")
    await expect(page).to_have_url(re.compile(rf"/search\?q={re.escape(quote(bob, safe=''))}$"))  # all of it asked
    assert elsewhere.fetched == []  # nothing asked of his server yet
    await search.press("Enter")
    await on_bobs_profile(page, elsewhere)
    assert "/users/bob" in elsewhere.fetched

    await mark_page(page)
    box = follow_box(page)
    await box.get_by_role("button", name=f"Follow {handle}", exact=True).click()
    await expect(box).to_contain_text("Requested")
    await expect(box.get_by_role("button")).to_have_text(f"Cancel request to follow {handle}")
    await expect(page.locator("#flashes")).to_contain_text(f"You asked to follow {handle}. Their server will answer.")
    await assert_not_reloaded(page)
    await expect(page).to_have_url(re.compile(rf"/user/{re.escape(handle)}$"))
    follow = await sent(elsewhere, "Follow")
    assert follow["object"] == bob and follow["actor"].startswith(f"{served.url}/users/")

    await accepted_by(elsewhere, bob, follow, served, page, alice)
    await his_post_arrives(elsewhere, bob, served, page, "Scones are ready")
    await reads_his_post(page, "Scones are ready")
    await page.goto(f"/user/{handle}")
    await expect(box.get_by_role("button")).to_have_text(f"Unfollow {handle}")
    await expect(box).not_to_contain_text("Requested")

    await page.wait_for_load_state("networkidle")
    await mark_page(page)
    await box.get_by_role("button", name=f"Unfollow {handle}", exact=True).click()
    await expect(box.get_by_role("button")).to_have_text(f"Follow {handle}")
    await expect(page.locator("#flashes")).to_have_text(f"You are not following {handle} anymore.")
    await assert_not_reloaded(page)
    await expect(page).to_have_url(re.compile(rf"/user/{re.escape(handle)}$"))
    undo = await sent(elsewhere, "Undo")
    assert undo["object"]["id"] == follow["id"] and undo["actor"] == follow["actor"]


async def test_following_someone_elsewhere_without_javascript(served, elsewhere, new_page):
    bob = elsewhere.person("bob")
    handle = f"bob@{elsewhere.host}"
    page, _ = await new_page(js=False, on=served)
    alice = await sign_up(page, "alice")

    search = page.get_by_role("searchbox", name="Search")  # the navbar's box: the form submits
    await search.fill(bob)
    await search.press("Enter")
    await on_bobs_profile(page, elsewhere)

    box = follow_box(page)
    await box.get_by_role("button", name=f"Follow {handle}", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"/user/{re.escape(handle)}$"))
    await expect(page.locator("#flashes")).to_contain_text(f"You asked to follow {handle}. Their server will answer.")
    await expect(box).to_contain_text("Requested")
    await expect(box.get_by_role("button")).to_have_text(f"Cancel request to follow {handle}")
    follow = await sent(elsewhere, "Follow")
    assert follow["object"] == bob

    await accepted_by(elsewhere, bob, follow, served, page, alice)
    await his_post_arrives(elsewhere, bob, served, page, "Kettle is on")
    await reads_his_post(page, "Kettle is on")
    await page.goto(f"/user/{handle}")
    await expect(box.get_by_role("button")).to_have_text(f"Unfollow {handle}")

    await box.get_by_role("button", name=f"Unfollow {handle}", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"/user/{re.escape(handle)}$"))
    await expect(page.locator("#flashes")).to_contain_text(f"You are not following {handle} anymore.")
    await expect(box.get_by_role("button")).to_have_text(f"Follow {handle}")
    undo = await sent(elsewhere, "Undo")
    assert undo["object"]["id"] == follow["id"]


async def test_taking_back_a_request_with_htmx(served, elsewhere, new_page):
    bob = elsewhere.person("bob")
    handle = f"bob@{elsewhere.host}"
    page, _ = await new_page(js=True, on=served)
    alice = await sign_up(page, "alice")
    search = page.get_by_role("searchbox", name="Search")
    await search.fill(bob)
    await search.press("Enter")
    await on_bobs_profile(page, elsewhere)

    await page.wait_for_load_state("networkidle")
    await mark_page(page)
    box = follow_box(page)
    await box.get_by_role("button", name=f"Follow {handle}", exact=True).click()
    await expect(box.get_by_role("button")).to_have_text(f"Cancel request to follow {handle}")
    follow = await sent(elsewhere, "Follow")

    await box.get_by_role("button", name=f"Cancel request to follow {handle}", exact=True).click()
    await expect(box.get_by_role("button")).to_have_text(f"Follow {handle}")
    await expect(box).not_to_contain_text("Requested")
    await expect(page.locator("#flashes")).to_have_text(f"You no longer ask to follow {handle}.")
    await assert_not_reloaded(page)
    await expect(page).to_have_url(re.compile(rf"/user/{re.escape(handle)}$"))
    undo = await sent(elsewhere, "Undo")
    assert undo["object"]["id"] == follow["id"]
