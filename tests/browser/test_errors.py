"""What the browser shows when an htmx action fails: a short message in #flashes, never an
error page swapped into the small part of the page the action targets.

htmx 4 swaps 4xx/5xx answers by default, so each failure below is a real one: a stopped
server, a database that refuses the insert, a user deleted meanwhile, a proxy's error page.
"""
import re
import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, log_in, mark_page, register, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

NETWORK_MESSAGE = "Could not reach the server. Try again."
SERVER_MESSAGE = "The administrator has been notified. Sorry for the inconvenience!"  # the app's 500 fragment
PROXY_MESSAGE = "Something went wrong on the server. Try again."  # app.js, for a 5xx not from the app
ERROR_PAGE_TITLE = "An unexpected error has occurred"

# Chromium logs failed loads as console errors, and htmx logs its htmx:error event there too;
# these are the failures the tests cause.
REFUSED = r"net::ERR_CONNECTION_REFUSED|htmx:error: Failed to fetch"


def status_logged(code: int) -> str:
    return rf"the server responded with a status of {code}"


def flashes(page):
    return page.locator("#flashes")


def follow_box(page):
    return page.locator(".follow-box")


def run_sql(database: Path, sql: str, *parameters) -> None:
    """Change the served SQLite file behind the app's back (WAL: the server keeps running)."""
    with sqlite3.connect(database, timeout=10) as connection:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute(sql, parameters)
    connection.close()


async def assert_one_page(page) -> None:
    """No page inside the page: one navbar, one <main>, one h1."""
    await expect(page.locator("nav.navbar")).to_have_count(1)
    await expect(page.locator("main")).to_have_count(1)
    await expect(page.get_by_role("heading", level=1)).to_have_count(1)


async def fan_on_profile_of_star(new_page, on=None):
    """`star` registered (no JS), `fan` logged in with htmx on star's profile; (page, problems, star)."""
    other, _ = await new_page(js=False, on=on)
    star = unique("star")
    await register(other, star)
    page, problems = await new_page(js=True, on=on)
    await sign_up(page, "fan")
    await page.goto(f"/user/{star}")
    await expect(follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True)).to_be_visible()
    await mark_page(page)
    return page, problems, star


async def test_unreachable_server_shows_a_short_message(new_page, own_server):
    page, problems, star = await fan_on_profile_of_star(new_page, on=own_server)
    problems.allow_console_error(REFUSED)
    own_server.stop()

    await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()

    await expect(flashes(page).get_by_role("alert")).to_have_text(NETWORK_MESSAGE)
    await expect(flashes(page).get_by_role("alert")).to_have_count(1)
    # The page is otherwise as it was: the same follow box, nothing swapped into it.
    await expect(follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True)).to_be_visible()
    await expect(follow_box(page).locator(".follower-count")).to_have_text("0 followers")
    await expect(follow_box(page).get_by_role("alert")).to_have_count(0)
    await expect(page.get_by_role("heading", level=1)).to_have_text(star)
    await assert_one_page(page)
    await assert_not_reloaded(page)
    assert own_server.errors_since(0) == []


@pytest.fixture
def posts_refused(own_server):
    """The own server's database refuses every new post, as a broken database would."""
    run_sql(own_server.database,
            "CREATE TRIGGER fail_posts BEFORE INSERT ON post BEGIN SELECT RAISE(ABORT, 'boom'); END;")
    return own_server


async def test_server_error_on_post_with_htmx(new_page, posts_refused):
    server = posts_refused
    page, problems = await new_page(js=True, on=server)
    problems.allow_console_error(status_logged(500))
    await sign_up(page, "unlucky")
    await mark_page(page)
    body = unique("This post will not make it")
    log_start = server.log.stat().st_size

    await page.get_by_label("Say something").fill(body)
    async with page.expect_response(re.compile(r"/post$")) as answer:
        await page.get_by_role("button", name="Submit").click()
    assert (await answer.value).status == 500

    await expect(flashes(page).get_by_role("alert")).to_have_text(SERVER_MESSAGE)
    await expect(flashes(page).get_by_role("alert")).to_have_count(1)
    await expect(page.locator("#posts article")).to_have_count(0)
    await expect(page.locator("#posts")).not_to_contain_text(ERROR_PAGE_TITLE)
    await expect(page.locator("#posts").get_by_role("alert")).to_have_count(0)
    await expect(page.locator("#post-form").get_by_role("alert")).to_have_count(0)
    await expect(page.locator("#post-form")).to_have_count(1)
    await expect(page.get_by_label("Say something")).to_have_value(body)  # nothing typed is lost
    await assert_one_page(page)
    await assert_not_reloaded(page)
    assert "boom" in server.log.read_text()[log_start:], "the 500 did not come from the refused insert"


async def test_server_error_on_post_without_javascript(new_page, posts_refused):
    server = posts_refused
    page, problems = await new_page(js=False, on=server)
    problems.allow_console_error(status_logged(500))
    nickname = unique("unlucky")
    await register(page, nickname)
    await log_in(page, nickname)
    log_start = server.log.stat().st_size

    await page.get_by_label("Say something").fill(unique("Not this one either"))
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.get_by_role("button", name="Submit").click()
    assert (await answer.value).status == 500

    await expect(page.get_by_role("heading", level=1)).to_have_text(ERROR_PAGE_TITLE)
    await expect(page.locator("main")).to_contain_text(SERVER_MESSAGE)
    await expect(page.get_by_role("link", name="Profile")).to_be_visible()  # still logged in, whole page
    await assert_one_page(page)
    assert "boom" in server.log.read_text()[log_start:], "the 500 did not come from the refused insert"


async def test_following_a_deleted_user_shows_a_short_message(new_page, server):
    page, problems, star = await fan_on_profile_of_star(new_page)
    problems.allow_console_error(status_logged(404))
    run_sql(server.database, "DELETE FROM user WHERE nickname = ?", star)

    async with page.expect_response(re.compile(rf"/follow/{star}$")) as answer:
        await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()
    assert (await answer.value).status == 404

    await expect(flashes(page).get_by_role("alert")).to_have_text(f"User {star} not found.")
    await expect(follow_box(page)).to_have_count(1)
    await expect(follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True)).to_be_visible()
    await expect(follow_box(page).get_by_role("alert")).to_have_count(0)
    await expect(follow_box(page)).not_to_contain_text("Page not found")
    await assert_one_page(page)
    await assert_not_reloaded(page)


async def test_an_error_page_not_from_the_app_is_never_swapped_in(new_page):
    """A reverse proxy's 502 page (no HX-Retarget): app.js keeps it out and says so."""
    page, problems, star = await fan_on_profile_of_star(new_page)
    problems.allow_console_error(status_logged(502))
    await page.route(re.compile(rf"/follow/{star}$"), lambda route: route.fulfill(
        status=502, content_type="text/html",
        body="<!doctype html><html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"))

    await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()

    await expect(flashes(page).get_by_role("alert")).to_have_text(PROXY_MESSAGE)
    await expect(page.get_by_text("502 Bad Gateway")).to_have_count(0)
    await expect(follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True)).to_be_visible()
    await assert_one_page(page)
    await assert_not_reloaded(page)
