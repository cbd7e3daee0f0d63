"""The failed-login slow-down: through the log-in form, and the Throttle rows underneath."""
import asyncio
from datetime import timedelta

from conftest import login, text_of
from helpers import INVALID_LOGIN, set_cookies
from microblog.accounts.throttle import Policy, Throttle
from microblog.db import utcnow


async def test_failed_logins_slow_down_then_recover(client, db, alice):
    for _ in range(Throttle.FREE_ATTEMPTS):
        response = await login(client, "alice", "wrong password")
        assert INVALID_LOGIN in await text_of(response)

    # Even the right password is refused now, whatever the nickname's case.
    response = await login(client, "ALICE", "correct horse")
    assert response.status_code == 422
    assert "Too many failed attempts" in await text_of(response)
    assert set_cookies(response, "QUART_AUTH") == []

    throttle = await db.get(Throttle, Throttle.key_for("login", "alice"))
    assert throttle.failures == Throttle.FREE_ATTEMPTS  # the refused attempt was not even tried
    # Time passes: the wait is over.
    throttle.next_allowed = utcnow() - timedelta(seconds=1)
    await db.commit()

    response = await login(client, "alice", "correct horse")
    assert response.status_code == 303
    db.expire_all()
    assert await db.get(Throttle, Throttle.key_for("login", "alice")) is None


async def test_parallel_attempts_cannot_slip_past_the_slow_down(app, db, alice):
    """Attempts sent all at once are claimed one by one before any password is checked."""
    clients = [app.test_client() for _ in range(12)]
    responses = await asyncio.gather(*(login(c, "alice", "wrong password") for c in clients))
    pages = [await text_of(r) for r in responses]
    assert sum(INVALID_LOGIN in page for page in pages) == Throttle.FREE_ATTEMPTS
    assert sum("Too many failed attempts" in page for page in pages) == 12 - Throttle.FREE_ATTEMPTS
    assert (await db.get(Throttle, Throttle.key_for("login", "alice"))).failures == Throttle.FREE_ATTEMPTS


async def test_slow_down_is_per_nickname(client, alice, bob):
    for _ in range(Throttle.FREE_ATTEMPTS + 1):
        await login(client, "alice", "wrong password")
    response = await login(client, "bob")
    assert response.status_code == 303


async def test_failures_under_the_limit_are_forgiven_by_a_success(client, db, alice):
    for _ in range(Throttle.FREE_ATTEMPTS - 1):
        await login(client, "alice", "wrong password")
    assert (await login(client, "alice")).status_code == 303
    assert await db.get(Throttle, Throttle.key_for("login", "alice")) is None


# --- the Throttle model -----------------------------------------------------------------------

async def test_first_attempts_are_free_whatever_order_they_reach_the_database(app_context, db):
    """An attempt whose clock reading is older than another's must not be refused."""
    key = Throttle.key_for("login", "alice")
    assert (await Throttle.claim(key))[0] == 0
    row = await db.get(Throttle, key)
    row.last_attempt = utcnow() + timedelta(seconds=2)  # a later request got there first
    await db.commit()
    assert (await Throttle.claim(key))[0] == 0


async def test_a_free_attempts_answer_holds_up_no_attempt_read_on_the_clock_before_it(app_context, db):
    """Two registrations at once (`take`, free attempts left): the one whose clock reading is the
    later gets counted first; the other, its reading a moment earlier, is not refused."""
    policy = Policy("register-client", free=10, first_delay=60, shared=True)
    key = Throttle.key_for(policy.kind, "192.0.2.1")
    wait, _at = await Throttle.claim(key, policy)
    assert wait == 0
    later = utcnow() + timedelta(seconds=2)  # the other request's clock reading
    row = await db.get(Throttle, key)
    row.last_attempt = later
    await db.commit()
    await Throttle.failed(key, later, policy)  # counted, no wait: free attempts are left
    assert (await Throttle.claim(key, policy))[0] == 0


async def test_a_late_failure_does_not_cut_a_newer_attempts_hold(app_context, db):
    key = Throttle.key_for("login", "alice")
    claims = [await Throttle.claim(key) for _ in range(Throttle.FREE_ATTEMPTS)]
    assert [wait for wait, _at in claims] == [0] * Throttle.FREE_ATTEMPTS
    await Throttle.failed(key, claims[0][1])  # the first attempt's answer comes in last
    wait, _at = await Throttle.claim(key)
    assert wait > 0  # the third attempt is still being checked


async def test_a_refused_claim_after_the_row_was_cleared_starts_afresh(app_context, db):
    key = Throttle.key_for("login", "alice")
    for _ in range(Throttle.FREE_ATTEMPTS):
        await Throttle.claim(key)
    await Throttle.clear(db, key)  # a successful log-in
    await db.commit()
    assert (await Throttle.claim(key))[0] == 0


def test_throttle_keys_have_a_fixed_length():
    assert len(Throttle.key_for("reset", "\u0130" * 120)) == len(Throttle.key_for("reset", "a")) < 200
