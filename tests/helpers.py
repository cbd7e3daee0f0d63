"""What a test does with the site: send requests as its pages do, and read the HTML it answers.

The readers parse the page (htmltree.py, on html.parser) and find things by their meaning: ids, `name`
attributes, `role`, `rel`, `aria-describedby` and the `<field>-errors` blocks the form macro
emits, not Bootstrap's class strings. They return text as a reader sees it (entities decoded).

`from conftest import post, login, flashes, ...` keeps working: conftest re-exports them.
"""
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, text

from htmltree import Element, parse, squeeze
from microblog import clock as site_clock
from microblog.follows.models import followers

HTMX = {"HX-Request": "true"}
CSRF_MESSAGE = ("Your session has expired or the form was not sent by this site. "
                "Please reload the page and try again.")
INVALID_LOGIN = "Invalid nickname or password."


# --- reading pages ----------------------------------------------------------------------------

def visible(page: str) -> str:
    """The text a reader sees (tags dropped, entities decoded, spaces collapsed)."""
    return squeeze(parse(page).text)


def title(page: str) -> str:
    return parse(page).find("title").text


def flashes(page: str) -> list[str]:
    """The messages (role="status" or "alert") in the page's #flashes live region; in a fragment
    that has none, those of its <hx-partial hx-target="#flashes">, else all of its messages. The
    close button's label is not part of a message."""
    root = parse(page)
    regions = root.find_all(id="flashes") or root.find_all("hx-partial", hx_target="#flashes") or [root]
    messages = [e for region in regions for e in region.iter() if e.get("role") in ("status", "alert")]
    return [squeeze(message.text_without("button")) for message in messages]


def control(page: str | Element, name: str) -> Element | None:
    """The form control (input, textarea, select) named `name`."""
    root = parse(page) if isinstance(page, str) else page
    return next((e for e in root.iter() if e.tag in ("input", "textarea", "select") and e.get("name") == name),
                None)


def field_errors(page: str, field: str) -> list[str]:
    """The messages shown under a form field: the `<field>-errors` block its aria-describedby
    points to, one message per child."""
    root = parse(page)
    found = control(root, field)
    described = found.get("aria-describedby", "").split() if found is not None else []
    ids = [i for i in described if i.endswith("-errors")] + [f"{field}-errors"]
    block = next((b for i in ids if (b := root.find(id=i)) is not None), None)
    if block is None:
        return []
    return [c.text for c in block.children if isinstance(c, Element)]


def input_value(page: str, name: str) -> str | None:
    """The value an <input> named `name` shows ("" without a value attribute; None: no such input)."""
    tag = parse(page).find("input", name=name)
    return None if tag is None else tag.get("value", "")


def textarea_value(page: str, name: str) -> str | None:
    tag = parse(page).find("textarea", name=name)
    return None if tag is None else tag.text.strip("\r\n")


def form_action(page: str, field: str) -> str | None:
    """Where the form holding the control `field` is sent."""
    found = control(page, field)
    form = next((a for a in found.ancestors() if a.tag == "form"), None) if found else None
    return None if form is None else form.get("action")


def link_href(page: str, text: str) -> str | None:
    """The address of the first link whose text is `text`."""
    return next((a.get("href") for a in parse(page).find_all("a") if squeeze(a.text) == text), None)


def hx_partial(page: str, target: str) -> Element | None:
    """The <hx-partial> of an htmx answer that goes to `target` (e.g. "#post-form")."""
    return parse(page).find("hx-partial", hx_target=target)


def split_partial(page: str) -> tuple[str, str]:
    """An htmx answer's main content, and what it puts in the #flashes live region."""
    partial = hx_partial(page, "#flashes")
    assert partial is not None, "nothing announced"
    return page[:partial.start], partial.inner_html


def post_ids(page: str) -> list[int]:
    """The posts shown (their <article id="post-N">), in order."""
    return [int(m.group(1)) for a in parse(page).find_all("article")
            if (m := re.fullmatch(r"post-(\d+)", a.get("id", "")))]


def user_rows(page: str) -> list[str]:
    """The nicknames of a followers/following list's rows (its `user-row`s), in order."""
    names = []
    for row in (e for e in parse(page).iter() if e.has_class("user-row")):
        profiles = [m.group(1) for a in row.find_all("a") if (m := re.fullmatch(r"/user/([^/]+)", a.get("href", "")))]
        assert profiles, f"a user row without a profile link: {row.inner_html}"
        names.append(profiles[0])
    return names


def older_link(page: str) -> str | None:
    """The "Older" link (rel="next"): the next page without JavaScript."""
    link = parse(page).find("a", rel="next")
    return None if link is None else link["href"]


def newer_link(page: str) -> str | None:
    link = parse(page).find("a", rel="prev")
    return None if link is None else link["href"]


def sentinel(page: str) -> str | None:
    """What infinite scroll loads next (the element htmx fetches when it is revealed)."""
    element = parse(page).find(hx_trigger="revealed")
    return None if element is None else element["hx-get"]


def login_next(location: str) -> str:
    """The page a login redirect will return to (asserting it is the login page)."""
    parts = urlsplit(location)
    assert parts.path == "/auth/login" and not parts.netloc
    [target] = parse_qs(parts.query)["next"]
    return target


# --- sending requests as the site's pages do ------------------------------------------------------

async def text_of(response) -> str:
    return await response.get_data(as_text=True)


async def csrf_token(client) -> str:
    async with client.session_transaction() as session:
        session.setdefault("csrf_token", "test-csrf-token")
        return session["csrf_token"]


async def post(client, url: str, data: dict | None = None, htmx: bool = False, **kwargs):
    """POST as the site's own forms do: with the CSRF token (as a header for htmx)."""
    token = await csrf_token(client)
    headers = kwargs.pop("headers", {})
    form = dict(data or {})
    if htmx:
        headers = {"HX-Request": "true", "X-CSRFToken": token, **headers}
    else:
        form["csrf_token"] = token
    return await client.post(url, form=form, headers=headers, **kwargs)


async def login(client, nickname: str, password: str = "correct horse", remember: bool = False):
    data = {"nickname": nickname, "password": password}
    if remember:
        data["remember_me"] = "y"
    return await post(client, "/auth/login", data)


async def logged_in(app, nickname: str):
    """A client of its own, logged in as `nickname`."""
    client = app.test_client()
    assert (await login(client, nickname)).status_code == 303
    return client


async def session_with_token(app, token: str, nickname: str | None = None):
    """A client of its own (logged in as `nickname`, if given) whose session's CSRF token is
    `token`: pages kept rendered must still show each session its own."""
    client = app.test_client()
    if nickname:
        assert (await login(client, nickname)).status_code == 303
    async with client.session_transaction() as session:
        session["csrf_token"] = token
    return client


def set_cookies(response, name: str) -> list[str]:
    """The Set-Cookie headers of a response for the cookie `name`."""
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]


def assert_varies(response) -> None:
    """The htmx answer differs from the page: caches must keep them apart."""
    assert "HX-Request" in response.headers.get("Vary", ""), response.headers.get("Vary")


async def page_of(client, url: str, status: int = 200, htmx: bool = False) -> str:
    response = await client.get(url, headers=HTMX if htmx else {})
    assert response.status_code == status, url
    assert_varies(response)
    return await text_of(response)


async def count(db, query) -> int:
    """How many rows `query` (a select) finds."""
    return await db.scalar(select(func.count()).select_from(query.subquery()))


# --- the database, as another request sees it -----------------------------------------------------

async def fresh(app):
    """A second session, as another request would have (`async with await fresh(app) as other:`)."""
    return app.extensions["db_sessionmaker"]()


async def follow_rows(db) -> set[tuple[int, int]]:
    """Every follow, as (follower id, followed id)."""
    return set((await db.execute(select(followers.c.follower_id, followers.c.followed_id))).all())


# --- a logged-in client ---------------------------------------------------------------------------

@pytest.fixture
async def alice_client(client, alice):
    """Logged in as alice, the welcome message already read (so flashes() shows only what the
    test itself causes). Modules and folders that want it import it, overriding conftest's."""
    response = await login(client, "alice")
    assert response.status_code == 303
    assert flashes(await text_of(await client.get(response.headers["Location"]))) == ["Welcome, alice!"]  # her first log-in
    return client


async def make_posting_fail(db) -> None:
    """A real database failure on insert (a trigger that raises, on SQLite, PostgreSQL and MariaDB)."""
    if db.bind.dialect.name == "sqlite":
        await db.execute(text(
            "CREATE TRIGGER fail_posts BEFORE INSERT ON post BEGIN SELECT RAISE(ABORT, 'boom'); END"))
    elif db.bind.dialect.name == "mysql":
        await db.execute(text(
            "CREATE TRIGGER fail_posts BEFORE INSERT ON post FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'"))
    else:
        await db.execute(text(
            "CREATE FUNCTION fail_posts() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$ "
            "LANGUAGE plpgsql"))
        await db.execute(text(
            "CREATE TRIGGER fail_posts BEFORE INSERT ON post FOR EACH ROW EXECUTE FUNCTION fail_posts()"))
    await db.commit()


# --- time -------------------------------------------------------------------------------------

class SteppedClock:
    """A clock for microblog.clock.now that stands still until the test steps it (forward or back,
    as NTP or a restored virtual machine would): what it reads never depends on the machine."""

    def __init__(self):
        self.time = datetime.now(timezone.utc).replace(microsecond=0)

    def now(self):
        return self.time

    def step(self, **delta) -> None:
        self.time += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> SteppedClock:
    """microblog.clock.now, stepped by the test (import this fixture where it is used)."""
    stepped = SteppedClock()
    monkeypatch.setattr(site_clock, "now", stepped.now)
    return stepped
