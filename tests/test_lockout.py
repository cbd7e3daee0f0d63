"""Nobody can lock anyone out, and no client can flood: a browser that has logged in before is
never held up by a stranger's wrong passwords (device cookies), and failed log-ins, registrations
and reset requests are limited per client address (behind trusted proxies only, the address they
saw). Two test clients are two browsers; `scope_base` gives them addresses of their own."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import TEST_CONFIG, make_user, post, reset_schema, text_of
from microblog import create_app
from microblog.accounts import User
from microblog.accounts.throttle import Throttle, client_network
from microblog.jobs import Job
from microblog.db import utcnow
from microblog.security import client_address

OWNER_ADDRESS = {"client": ("192.0.2.10", 50000)}
ATTACKER_ADDRESS = {"client": ("198.51.100.66", 40000)}
TOO_MANY = "Too many failed attempts"
INVALID = "Invalid nickname or password."


async def attempt(client, nickname: str, password: str, address=None, **kwargs):
    return await post(client, "/auth/login", {"nickname": nickname, "password": password},
                      scope_base=address or OWNER_ADDRESS, **kwargs)


async def hold_nickname(app, nickname: str, tries: int = 8) -> None:
    """A stranger, from a browser of their own, tries wrong passwords until the nickname is held."""
    stranger = app.test_client()
    pages = [await text_of(await attempt(stranger, nickname, "guess", ATTACKER_ADDRESS)) for _ in range(tries)]
    assert TOO_MANY in pages[-1]


async def held_keys(db) -> set[str]:
    db.expire_all()
    return {t.key.partition(":")[0] for t in await db.scalars(select(Throttle))}


@pytest.fixture
async def alice(db):
    return await make_user(db, "alice")


# --- the owner's browser is never locked out ---------------------------------------------------

async def test_a_stranger_polling_wrong_passwords_does_not_lock_out_the_owners_browser(app, alice):
    owner = app.test_client()
    assert (await attempt(owner, "alice", "correct horse")).status_code == 303
    assert (await post(owner, "/auth/logout")).status_code == 303

    await hold_nickname(app, "ALICE")  # any case
    response = await attempt(owner, "alice", "correct horse")
    assert response.status_code == 303
    assert (await owner.get("/index")).status_code == 200

    # Meanwhile a browser that never logged in as alice is held, as before.
    response = await attempt(app.test_client(), "alice", "correct horse", ATTACKER_ADDRESS)
    assert TOO_MANY in await text_of(response)


async def test_the_device_cookie_is_signed_long_lived_and_httponly(app, alice):
    owner = app.test_client()
    response = await attempt(owner, "alice", "correct horse")
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("device=")]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/auth/login" in attributes
    assert "max-age=31536000" in attributes
    assert "alice" not in cookie  # names the account by id only


async def test_a_forged_device_cookie_is_no_way_around_the_hold(app, alice):
    owner = app.test_client()
    assert (await attempt(owner, "alice", "correct horse")).status_code == 303
    [value] = [c.value for c in owner.cookie_jar if c.name == "device"]
    await hold_nickname(app, "alice")

    forger = app.test_client()
    payload, _dot, rest = value.partition(".")
    forger.set_cookie("localhost", "device", payload + "." + rest[::-1], path="/auth/login")
    assert TOO_MANY in await text_of(await attempt(forger, "alice", "correct horse", ATTACKER_ADDRESS))


async def test_a_device_cookie_helps_only_the_accounts_it_names(app, db, alice):
    await make_user(db, "bob")
    shared = app.test_client()
    assert (await attempt(shared, "bob", "correct horse")).status_code == 303
    await post(shared, "/auth/logout")
    await hold_nickname(app, "alice")
    assert TOO_MANY in await text_of(await attempt(shared, "alice", "correct horse"))


async def test_a_shared_computer_remembers_a_few_accounts(app, db, alice):
    await make_user(db, "bob")
    shared = app.test_client()
    for nickname in ("alice", "bob"):
        assert (await attempt(shared, nickname, "correct horse")).status_code == 303
        await post(shared, "/auth/logout")
    await hold_nickname(app, "alice")
    assert (await attempt(shared, "alice", "correct horse")).status_code == 303


async def test_the_owners_browser_is_slowed_down_on_its_own_key(app, db, alice):
    owner = app.test_client()
    assert (await attempt(owner, "alice", "correct horse")).status_code == 303
    await post(owner, "/auth/logout")
    for _ in range(Throttle.FREE_ATTEMPTS):
        assert INVALID in await text_of(await attempt(owner, "alice", "wrong"))
    assert TOO_MANY in await text_of(await attempt(owner, "alice", "correct horse"))
    # Its guesses held up neither the nickname nor its address for anyone else.
    assert await held_keys(db) == {"login-device"}  # (its first, good log-in counted nowhere)
    assert (await attempt(app.test_client(), "alice", "correct horse")).status_code == 303


# --- failed log-ins per client address --------------------------------------------------------

@pytest.fixture
def strict_limits(app):
    app.config.update(LOGIN_FAILURES_PER_CLIENT=5, REGISTRATIONS_PER_CLIENT=3, RESET_REQUESTS_PER_CLIENT=2)
    return app


async def test_failed_log_ins_are_limited_per_client_across_nicknames(strict_limits, db, alice):
    app = strict_limits
    sprayer = app.test_client()
    for n in range(5):  # one guess each at many accounts: no nickname is ever held
        assert INVALID in await text_of(await attempt(sprayer, f"user{n}", "123456", ATTACKER_ADDRESS))
    response = await attempt(sprayer, "someone_else", "123456", ATTACKER_ADDRESS)
    assert response.status_code == 422 and TOO_MANY in await text_of(response)
    # Others, from their own addresses, are not held up.
    assert (await attempt(app.test_client(), "alice", "correct horse")).status_code == 303


async def test_polling_a_held_nickname_costs_the_client(app, db, alice):
    stranger = app.test_client()
    for _ in range(Throttle.FREE_ATTEMPTS):
        await attempt(stranger, "alice", "guess", ATTACKER_ADDRESS)
    nickname_row = await db.get(Throttle, Throttle.key_for("login", "alice"))
    nickname_row.next_allowed = utcnow() + timedelta(minutes=5)
    await db.commit()
    for _ in range(3):  # refused at once by the nickname's hold: each counts for the address
        assert TOO_MANY in await text_of(await attempt(stranger, "alice", "guess", ATTACKER_ADDRESS))
    db.expire_all()
    assert (await db.get(Throttle, Throttle.key_for("login-client", "198.51.100.66"))).failures == 6
    assert (await db.get(Throttle, Throttle.key_for("login", "alice"))).failures == 3


async def test_successful_log_ins_do_not_count_against_the_client(strict_limits, db, alice):
    app = strict_limits
    await make_user(db, "bob")
    office = app.test_client()
    for _ in range(4):
        await attempt(office, "bob", "typo")  # bob's typos: four failures for the office
    for _ in range(6):  # alice, from the same office, logs in and out all day
        assert (await attempt(app.test_client(), "alice", "correct horse")).status_code == 303
    db.expire_all()
    assert (await db.get(Throttle, Throttle.key_for("login-client", "192.0.2.10"))).failures == 4


# --- registrations and reset requests per client ----------------------------------------------

async def register(client, n: int, address):
    return await post(client, "/auth/register", {
        "nickname": f"user{n}", "email": f"user{n}@example.com", "password": "long enough",
        "password2": "long enough"}, scope_base=address)


async def test_registrations_are_limited_per_client(strict_limits, db):
    app = strict_limits
    client = app.test_client()
    for n in range(3):
        assert (await register(client, n, ATTACKER_ADDRESS)).status_code == 303
    response = await register(client, 3, ATTACKER_ADDRESS)
    assert response.status_code == 429
    assert 58 <= int(response.headers["Retry-After"]) <= 60
    html = await text_of(response)
    assert "Too many requests from your network. Try again in 1 minute." in html
    assert 'value="user3"' in html  # the form, as it was filled in
    assert await User.by_nickname(db, "user3") is None
    # Another address registers as usual.
    assert (await register(app.test_client(), 3, OWNER_ADDRESS)).status_code == 303


async def test_reset_requests_are_limited_per_client(strict_limits, db):
    app = strict_limits
    client = app.test_client()
    for n in range(2):
        await make_user(db, f"user{n}")
        response = await post(client, "/auth/reset_password_request", {"email": f"user{n}@example.com"},
                              scope_base=ATTACKER_ADDRESS)
        assert response.status_code == 303
    await make_user(db, "user2")
    response = await post(client, "/auth/reset_password_request", {"email": "user2@example.com"},
                          scope_base=ATTACKER_ADDRESS)
    assert response.status_code == 429
    assert "Too many requests from your network." in await text_of(response)
    assert await db.scalar(select(func.count()).select_from(Job)) == 2  # no mail for the third
    response = await post(app.test_client(), "/auth/reset_password_request", {"email": "user2@example.com"},
                          scope_base=OWNER_ADDRESS)
    assert response.status_code == 303


async def test_the_limits_default_to_a_few(app_config, monkeypatch):
    for name in ("LOGIN_FAILURES_PER_CLIENT", "REGISTRATIONS_PER_CLIENT", "RESET_REQUESTS_PER_CLIENT",
                 "TRUSTED_PROXIES", "RESET_MAILS_PER_DAY"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(app_config)
    assert (app.config["LOGIN_FAILURES_PER_CLIENT"], app.config["REGISTRATIONS_PER_CLIENT"],
            app.config["RESET_REQUESTS_PER_CLIENT"], app.config["TRUSTED_PROXIES"],
            app.config["RESET_MAILS_PER_DAY"]) == (20, 10, 10, 0, 5)


# --- who the client is ---------------------------------------------------------------------------

async def address_seen(app, headers: dict, client: str = "203.0.113.9") -> str:
    async with app.test_request_context("/", headers={"Remote-Addr": client, **headers}):
        return client_address()


async def test_a_remote_addr_header_from_the_client_is_not_its_address(app, db):
    """The server puts the socket's address first; a header of the same name comes after it."""
    app.config["REGISTRATIONS_PER_CLIENT"] = 1
    client = app.test_client()
    assert (await register(client, 1, ATTACKER_ADDRESS)).status_code == 303
    response = await post(client, "/auth/register", {
        "nickname": "user2", "email": "user2@example.com", "password": "long enough",
        "password2": "long enough"}, scope_base=ATTACKER_ADDRESS, headers={"Remote-Addr": "192.0.2.200"})
    assert response.status_code == 429


async def test_without_trusted_proxies_forwarded_headers_are_ignored(app):
    assert await address_seen(app, {"X-Forwarded-For": "10.0.0.1"}) == "203.0.113.9"


async def test_behind_trusted_proxies_the_address_they_saw_counts(app):
    app.config["TRUSTED_PROXIES"] = 1
    # The client may send any X-Forwarded-For; our proxy appends the address it saw.
    assert await address_seen(app, {"X-Forwarded-For": "1.1.1.1, 198.51.100.7"}) == "198.51.100.7"
    app.config["TRUSTED_PROXIES"] = 2
    assert await address_seen(app, {"X-Forwarded-For": "1.1.1.1, 198.51.100.7, 10.0.0.2"}) == "198.51.100.7"
    # Too few entries: the request did not come through our proxies; the socket's address counts.
    assert await address_seen(app, {"X-Forwarded-For": "10.0.0.2"}) == "203.0.113.9"
    assert await address_seen(app, {}) == "203.0.113.9"


async def test_spoofed_forwarded_addresses_get_no_fresh_allowance(strict_limits):
    app = strict_limits
    app.config["TRUSTED_PROXIES"] = 1
    client = app.test_client()
    proxy = {"client": ("10.0.0.2", 1)}
    for n in range(3):
        headers = {"X-Forwarded-For": f"10.9.9.{n}, 198.51.100.7"}
        assert (await post(client, "/auth/register", {
            "nickname": f"user{n}", "email": f"user{n}@example.com", "password": "long enough",
            "password2": "long enough"}, scope_base=proxy, headers=headers)).status_code == 303
    response = await post(client, "/auth/register", {
        "nickname": "user9", "email": "user9@example.com", "password": "long enough",
        "password2": "long enough"}, scope_base=proxy, headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.7"})
    assert response.status_code == 429
    response = await post(client, "/auth/register", {
        "nickname": "user9", "email": "user9@example.com", "password": "long enough",
        "password2": "long enough"}, scope_base=proxy, headers={"X-Forwarded-For": "198.51.100.8"})
    assert response.status_code == 303


async def test_forwarded_values_that_are_no_address_are_ignored(app):
    """Something a proxy passed on that is no IP address is not a client: the next trusted hop's
    address counts, else the socket's."""
    app.config["TRUSTED_PROXIES"] = 1
    assert await address_seen(app, {"X-Forwarded-For": "not-an-ip"}) == "203.0.113.9"
    assert await address_seen(app, {"X-Forwarded-For": "198.51.100.7, <script>"}) == "203.0.113.9"
    assert await address_seen(app, {"X-Forwarded-For": "2001:db8::1"}) == "2001:db8::1"
    app.config["TRUSTED_PROXIES"] = 2
    assert await address_seen(app, {"X-Forwarded-For": "unknown, 10.0.0.2"}) == "10.0.0.2"
    assert await address_seen(app, {"X-Forwarded-For": "unknown, _hidden"}) == "203.0.113.9"


async def test_junk_forwarded_values_share_the_proxys_limit(strict_limits):
    """Junk in X-Forwarded-For behind a trusted proxy gets no allowance of its own per value."""
    app = strict_limits
    app.config.update(TRUSTED_PROXIES=1, REGISTRATIONS_PER_CLIENT=1)
    proxy = {"client": ("10.0.0.2", 1)}
    answers = [(await post(app.test_client(), "/auth/register", {
        "nickname": f"user{n}", "email": f"user{n}@example.com", "password": "long enough",
        "password2": "long enough"}, scope_base=proxy, headers={"X-Forwarded-For": junk})).status_code
        for n, junk in enumerate(["not-an-ip", "still-not-one"])]
    assert answers == [303, 429]


@pytest.mark.parametrize("address, network", [
    ("192.0.2.1", "192.0.2.1"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    ("<local>", "<local>"),
])
def test_a_client_is_an_ipv4_address_or_an_ipv6_64(address, network):
    assert client_network(address) == network


# --- limits hold across workers ---------------------------------------------------------------

async def test_the_client_limits_live_in_the_database(database_url, strict_limits, db):
    """A second app (another worker, another host) on the same database sees the first's counts."""
    other = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "REGISTRATIONS_PER_CLIENT": 3})
    async with other.test_app():
        for n in range(3):
            assert (await register(strict_limits.test_client(), n, ATTACKER_ADDRESS)).status_code == 303
        assert (await register(other.test_client(), 3, ATTACKER_ADDRESS)).status_code == 429
