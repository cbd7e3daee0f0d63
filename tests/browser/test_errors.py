"""What the browser shows when an htmx action fails: a short message right after the form that
was used (app.js), never an error page swapped into the small part of the page the action
targets (htmx's noSwap), and nothing removed or replaced.

htmx 4 swaps 4xx/5xx answers by default, so each failure below is a real one: a stopped
server, a database that refuses the insert, a user deleted meanwhile, a proxy's error page.
"""
import re
import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import expect

from .support import assert_not_reloaded, log_in, mark_page, publish_quickly, register, sign_up, unique

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

NETWORK_MESSAGE = "Could not reach the server. Try again."
SERVER_MESSAGE = "Sorry for the inconvenience! Please try again later."  # the app's 500 fragment (no ADMINS set)
PROXY_MESSAGE = "Something went wrong on the server. Try again."  # app.js, for an error page not from the app
ERROR_PAGE_TITLE = "An unexpected error has occurred"

# Chromium logs failed loads as console errors, and htmx logs its htmx:error event there too;
# these are the failures the tests cause.
REFUSED = r"net::ERR_CONNECTION_REFUSED|htmx:error: Failed to fetch"


def status_logged(code: int) -> str:
    return rf"the server responded with a status of {code}"


def flashes(page):
    return page.locator("#flashes")


def message_after(form):
    """The message app.js puts right after a form whose request failed."""
    return form.locator("xpath=following-sibling::*[1][@role='alert']")


def follow_form(page):
    return follow_box(page).locator("form")


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


async def test_unreachable_server_shows_a_short_message_by_the_button(new_page, own_server):
    page, problems, star = await fan_on_profile_of_star(new_page, on=own_server)
    problems.allow_console_error(REFUSED)
    own_server.stop()
    button = follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True)

    await button.click()

    message = message_after(follow_form(page))
    await expect(message).to_have_text(NETWORK_MESSAGE)
    await expect(page.get_by_role("alert")).to_have_count(1)
    await expect(flashes(page).get_by_role("alert")).to_have_count(0)  # by the button, not at the top
    # The page is otherwise as it was: the same follow box, nothing swapped into it.
    await expect(button).to_be_visible()
    await expect(follow_box(page).locator(".follower-count")).to_have_text("0 followers")
    await expect(page.get_by_role("heading", level=1)).to_have_text(star)

    # Retrying while still offline: the message is replaced, not piled up.
    await button.click()
    await button.click()
    await expect(message).to_have_text(NETWORK_MESSAGE)
    await expect(page.get_by_role("alert")).to_have_count(1)
    await assert_one_page(page)
    await assert_not_reloaded(page)
    assert own_server.errors_since(0) == []


@pytest.fixture
def posts_refused(own_server):
    """The own server's database refuses every new post, as a broken database would."""
    run_sql(own_server.database,
            "CREATE TRIGGER fail_posts BEFORE INSERT ON post BEGIN SELECT RAISE(ABORT, 'boom'); END;")
    return own_server


async def test_server_error_on_post_with_htmx(posts_refused, new_page):  # pages close before the server stops
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

    # The app's own 500 fragment says what happened, as text, right under the form.
    await expect(message_after(page.locator("#post-form"))).to_have_text(SERVER_MESSAGE)
    await expect(page.get_by_role("alert")).to_have_count(1)
    await expect(flashes(page).get_by_role("alert")).to_have_count(0)
    await expect(message_after(page.locator("#post-form")).locator("button, a, div")).to_have_count(0)
    await expect(page.locator("#posts article")).to_have_count(0)
    await expect(page.locator("#posts")).not_to_contain_text(ERROR_PAGE_TITLE)
    await expect(page.locator("#posts").get_by_role("alert")).to_have_count(0)
    await expect(page.locator("#post-form").get_by_role("alert")).to_have_count(0)
    await expect(page.locator("#post-form")).to_have_count(1)
    await expect(page.get_by_label("Say something")).to_have_value(body)  # nothing typed is lost
    await assert_one_page(page)
    await assert_not_reloaded(page)
    assert "boom" in server.log.read_text()[log_start:], "the 500 did not come from the refused insert"

    # The database works again: the same post goes through and the stale message goes.
    run_sql(server.database, "DROP TRIGGER fail_posts")
    await page.get_by_role("button", name="Submit").click()
    await expect(page.locator("#posts article").first).to_contain_text(body)
    await expect(page.get_by_role("alert")).to_have_count(0)
    await expect(page.get_by_label("Say something")).to_have_value("")
    await assert_one_page(page)
    await assert_not_reloaded(page)


async def test_server_error_on_post_without_javascript(posts_refused, new_page):  # pages close first
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

    async with page.expect_response(re.compile(rf"/user/{star}/follow$")) as answer:
        await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()
    assert (await answer.value).status == 404

    await expect(message_after(follow_form(page))).to_have_text(f"User {star} not found.")
    await expect(page.get_by_role("alert")).to_have_count(1)
    await expect(follow_box(page)).to_have_count(1)
    await expect(follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True)).to_be_visible()
    await expect(follow_box(page)).not_to_contain_text("Page not found")
    await assert_one_page(page)
    await assert_not_reloaded(page)


async def test_an_error_page_not_from_the_app_is_never_swapped_in(new_page):
    """A reverse proxy's 502 page (not the app's <p data-message>): kept out, with the generic
    message; once the proxy is back, the next click works and the stale message goes."""
    page, problems, star = await fan_on_profile_of_star(new_page)
    problems.allow_console_error(status_logged(502))
    follow_url = re.compile(rf"/user/{star}/follow$")
    await page.route(follow_url, lambda route: route.fulfill(
        status=502, content_type="text/html",
        body="<!doctype html><html><body><h1>502 Bad Gateway</h1><hr>"
             "<div class='alert'>nginx says no</div></body></html>"))

    await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()

    await expect(message_after(follow_form(page))).to_have_text(PROXY_MESSAGE)
    await expect(page.get_by_text("502 Bad Gateway")).to_have_count(0)
    await expect(page.get_by_text("nginx says no")).to_have_count(0)
    await expect(follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True)).to_be_visible()
    await assert_one_page(page)

    await page.unroute(follow_url)
    await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()
    await expect(follow_box(page).get_by_role("button", name=f"Unfollow {star}", exact=True)).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_count(0)
    await assert_one_page(page)
    await assert_not_reloaded(page)


async def test_a_foreign_4xx_on_delete_keeps_the_post(new_page):
    """A proxy's 429 page for the delete POST: the post is not removed (hx-swap="delete" is not
    run for an error) and the page is not swapped in; a short message says so by the button."""
    page, problems = await new_page(js=True)
    problems.allow_console_error(status_logged(429))
    await sign_up(page, "throttled")
    body = unique("Still here")
    await publish_quickly(page, [body])
    await page.reload()
    await mark_page(page)
    page.on("dialog", lambda dialog: dialog.accept())
    delete_url = re.compile(r"/(post/\d+/delete|delete/\d+)$")  # the form's hx-post
    await page.route(delete_url, lambda route: route.fulfill(
        status=429, content_type="text/html", headers={"Retry-After": "60"},
        body="<!doctype html><html><head><title>429</title></head><body><h1>429 Too Many Requests</h1>"
             "<p>Slow down.</p></body></html>"))
    article = page.locator("#posts article", has_text=body)

    async with page.expect_response(delete_url) as answer:
        await article.get_by_role("button", name="Delete").click()
    assert (await answer.value).status == 429

    await expect(message_after(article.locator("form"))).to_have_text(PROXY_MESSAGE)
    await expect(article).to_have_count(1)
    await expect(article.get_by_role("button", name="Delete")).to_be_visible()
    await expect(page.get_by_text("Too Many Requests")).to_have_count(0)
    await expect(page.get_by_text("Slow down.")).to_have_count(0)
    await expect(flashes(page).get_by_role("alert")).to_have_count(0)
    await assert_one_page(page)
    await assert_not_reloaded(page)


async def test_the_apps_error_text_is_shown_as_text_only(new_page):
    """The message comes from the app's fragment (<p data-message>) as text: markup in it stays text."""
    page, problems, star = await fan_on_profile_of_star(new_page)
    problems.allow_console_error(status_logged(500))
    await page.route(re.compile(rf"/user/{star}/follow$"), lambda route: route.fulfill(
        status=500, content_type="text/html",
        body='<p data-message>Broken &lt;b&gt;here&lt;/b&gt; <i>now</i><img src="/nothing.png" alt=""></p>'))

    await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()

    message = message_after(follow_form(page))
    await expect(message).to_have_text("Broken <b>here</b> now")
    await expect(message.locator("*")).to_have_count(0)  # no element from the response
    await expect(flashes(page).get_by_role("alert")).to_have_count(0)
    await assert_not_reloaded(page)


async def test_the_apps_full_error_page_is_never_swapped_in(new_page):
    """A whole page of the app's (its layout, a navbar, an h1) answered to an htmx request, as a
    misrouted request or a cache could: kept out like a proxy's page, with the generic message."""
    page, problems, star = await fan_on_profile_of_star(new_page)
    problems.allow_console_error(status_logged(500))
    full_page = await (await page.request.get("/no/such/page")).text()
    assert "<nav" in full_page and "Sorry, that page does not exist." in full_page
    await page.route(re.compile(rf"/user/{star}/follow$"), lambda route: route.fulfill(
        status=500, content_type="text/html", body=full_page))

    await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()

    await expect(message_after(follow_form(page))).to_have_text(PROXY_MESSAGE)
    await expect(page.get_by_text("Sorry, that page does not exist.")).to_have_count(0)
    await expect(page.get_by_role("alert")).to_have_count(1)
    await expect(follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True)).to_be_visible()
    await assert_one_page(page)
    await assert_not_reloaded(page)


async def test_deleting_a_post_that_is_already_gone_keeps_it_and_says_so(new_page, server):
    """The app's own refusal (404, "Post not found.") for a hx-swap="delete" target: the message
    is shown by the button and the article is not removed by the failed request."""
    page, problems = await new_page(js=True)
    problems.allow_console_error(status_logged(404))
    await sign_up(page, "twotabs")
    body = unique("Deleted in another tab")
    await publish_quickly(page, [body])
    await page.reload()
    await mark_page(page)
    page.on("dialog", lambda dialog: dialog.accept())
    run_sql(server.database, "DELETE FROM post WHERE body = ?", body)
    article = page.locator("#posts article", has_text=body)

    async with page.expect_response(re.compile(r"/post/\d+/delete$")) as answer:
        await article.get_by_role("button", name="Delete").click()
    assert (await answer.value).status == 404

    await expect(message_after(article.locator("form"))).to_have_text("Post not found.")
    await expect(article).to_have_count(1)
    await expect(page.get_by_role("alert")).to_have_count(1)
    await expect(flashes(page).get_by_role("alert")).to_have_count(0)
    await assert_one_page(page)
    await assert_not_reloaded(page)


async def test_logged_out_meanwhile_goes_to_the_login_page(new_page, server):
    """A 401 with HX-Redirect (the log-in cookie stopped working: the password changed in another
    tab): htmx follows it to the login page, which brings the user back here afterwards."""
    other, _ = await new_page(js=False)
    star = unique("star")
    await register(other, star)
    page, problems = await new_page(js=True)
    problems.allow_console_error(status_logged(401))
    fan = await sign_up(page, "fan")
    await page.goto(f"/user/{star}")
    await mark_page(page)
    run_sql(server.database, "UPDATE local_user SET password_hash = 'changed elsewhere' "
                             "WHERE user_id = (SELECT id FROM user WHERE nickname = ?)", fan)

    async with page.expect_response(re.compile(rf"/user/{star}/follow$")) as answer:
        await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()
    assert (await answer.value).status == 401

    await expect(page).to_have_url(re.compile(rf"/auth/login\?next=(/|%2F)user(/|%2F){star}$"))
    await expect(page.get_by_role("button", name="Sign In")).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_count(0)
    await assert_one_page(page)


async def test_parts_of_a_foreign_page_are_not_swapped_in_either(new_page):
    """noSwap stops only the main swap: a page that is not the app's answer (here a 503 page of
    another htmx site behind the same proxy) must not get its <hx-partial> or hx-swap-oob parts in."""
    page, problems, star = await fan_on_profile_of_star(new_page)
    problems.allow_console_error(status_logged(503))
    await page.route(re.compile(rf"/user/{star}/follow$"), lambda route: route.fulfill(
        status=503, content_type="text/html",
        body='<h1>Maintenance</h1><hx-partial hx-target="#flashes" hx-swap="beforeend"><p>partial got in</p>'
             '</hx-partial><div id="content" hx-swap-oob="true">oob got in</div>'))

    await follow_box(page).get_by_role("button", name=f"Follow {star}", exact=True).click()

    await expect(message_after(follow_form(page))).to_have_text(PROXY_MESSAGE)
    await expect(page.get_by_text("partial got in")).to_have_count(0)
    await expect(page.get_by_text("oob got in")).to_have_count(0)
    await expect(page.get_by_text("Maintenance")).to_have_count(0)
    await expect(page.get_by_role("heading", level=1)).to_have_text(star)
    await assert_one_page(page)
    await assert_not_reloaded(page)
