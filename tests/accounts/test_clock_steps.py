"""The clock stepping back or forward (NTP, a restored virtual machine, `date -s`): after a step back
no wait is longer than its policy allows and no session ends; after a step forward sessions and
throttles may end early, nothing worse. The time is microblog.clock.now, stepped by the test
(`clock`), never the machine's."""
import re

import pytest
from sqlalchemy import select

from conftest import login, make_user, post, text_of
from helpers import INVALID_LOGIN, clock, input_value, logged_in  # noqa: F401 (clock: a fixture)
from microblog.accounts.throttle import NICKNAME, Throttle
from microblog.posts import Post

TOO_MANY = re.compile(r"Too many failed attempts\. Try again in (\d+) seconds\.")
OWNER = {"client": ("192.0.2.10", 50000)}
STRANGER = {"client": ("198.51.100.66", 40000)}


def wait_in(page: str) -> int | None:
    found = TOO_MANY.search(page)
    return int(found.group(1)) if found else None


async def test_a_clock_gone_back_never_makes_a_log_in_wait_longer_than_its_policy(client, alice, clock):
    for _ in range(Throttle.FREE_ATTEMPTS):
        assert INVALID_LOGIN in await text_of(await login(client, "alice", "wrong password"))
    assert wait_in(await text_of(await login(client, "alice"))) == 1

    clock.step(hours=-2)
    longest = NICKNAME.delay(Throttle.FREE_ATTEMPTS).total_seconds()  # for this count of failures
    wait = wait_in(await text_of(await login(client, "alice")))
    assert wait is not None and 1 <= wait <= longest  # not 7201
    clock.step(seconds=wait)  # waiting as told is enough
    assert (await login(client, "alice")).status_code == 303


async def test_a_hold_stays_within_its_policy_after_the_clock_went_back(client, alice, clock):
    for _ in range(Throttle.FREE_ATTEMPTS + 4):  # holds of 1, 2, 4, 8 s
        await login(client, "alice", "wrong password")
        clock.step(minutes=1)
    clock.step(hours=-3)
    for _ in range(3):  # refused again and again, each told no more than the policy's hold
        wait = wait_in(await text_of(await login(client, "alice", "wrong password")))
        assert wait is not None and 1 <= wait <= NICKNAME.max_delay
    clock.step(seconds=NICKNAME.max_delay)
    assert INVALID_LOGIN in await text_of(await login(client, "alice", "wrong password"))


async def test_a_session_lives_through_the_clock_going_back_and_ends_when_idle_after(app, db, alice, clock):
    client = await logged_in(app, "alice")
    token = input_value(await text_of(await client.get("/index")), "csrf_token")

    clock.step(hours=-2)
    assert (await client.get("/index")).status_code == 200  # still logged in
    # The form loaded before the step is still accepted (its token is in the session cookie).
    response = await client.post("/post", form={"post": "written after the clock went back", "csrf_token": token})
    assert response.status_code == 303
    assert await db.scalar(select(Post.body)) == "written after the clock went back"

    clock.step(hours=13)  # 13 hours after the last visit: the session has ended, as an idle one does
    response = await client.get("/index")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert (await client.get("/auth/login")).status_code == 200
    assert (await login(client, "alice")).status_code == 303


async def test_a_remembered_session_lives_through_steps_both_ways(app, alice, clock):
    client = app.test_client()
    assert (await login(client, "alice", remember=True)).status_code == 303
    for hours in (-2, 13, -24):
        clock.step(hours=hours)
        assert (await client.get("/index")).status_code == 200, hours


async def test_the_owners_browser_is_still_known_after_the_clock_went_back(app, alice, clock):
    owner = app.test_client()
    assert (await post(owner, "/auth/login", {"nickname": "alice", "password": "correct horse"},
                       scope_base=OWNER)).status_code == 303
    await post(owner, "/auth/logout")
    clock.step(hours=-2)
    stranger = app.test_client()
    for _ in range(6):  # a stranger holds the nickname
        await post(stranger, "/auth/login", {"nickname": "alice", "password": "guess"}, scope_base=STRANGER)
    assert (await post(owner, "/auth/login", {"nickname": "alice", "password": "correct horse"},
                       scope_base=OWNER)).status_code == 303


@pytest.mark.parametrize("hours", [13, 24 * 30])
async def test_after_a_step_forward_throttles_are_forgotten_early_and_nothing_errors(client, alice, clock, hours):
    for _ in range(Throttle.FREE_ATTEMPTS + 2):
        await login(client, "alice", "wrong password")
    clock.step(hours=hours)
    assert INVALID_LOGIN in await text_of(await login(client, "alice", "wrong password"))
    assert (await login(client, "alice")).status_code == 303
    assert (await client.get("/auth/sessions")).status_code == 200


async def test_no_stranger_is_let_in_by_a_step(app, db, clock):
    """The steps change how long one waits, never whether a wrong password is refused."""
    await make_user(db, "bob")
    client = app.test_client()
    for hours in (-2, 5, -1):
        clock.step(hours=hours)
        page = await text_of(await login(client, "bob", "wrong password"))
        assert INVALID_LOGIN in page or wait_in(page)
