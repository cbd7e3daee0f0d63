"""Password reset: the request form, then the mail end to end through a real SMTP server (aiosmtpd)
on this machine, bad links, and the mail job's retries."""
import asyncio
import logging
import re
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select, text
from aiosmtpd.controller import Controller
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from conftest import TEST_CONFIG, empty_database, flashes, free_port, login, make_user, post, text_of
from helpers import clock, field_errors, input_value  # noqa: F401 (clock: a fixture)
from microblog import create_app
from microblog.jobs import Job
from microblog.accounts.throttle import Throttle

SENDER = "microblog <no-reply@example.org>"
BASE_URL = "https://example.org/microblog"
CHECK_EMAIL = "Check your email for the instructions to reset your password."
INVALID_LINK = "This password reset link is invalid or has expired."


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    async def wait(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")
            await asyncio.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


async def make_mail_app(database_url: str, **config):
    await empty_database(database_url)
    return create_app({**TEST_CONFIG, "DATABASE_URL": database_url,
                       "MAIL_DEFAULT_SENDER": SENDER, **config})


@pytest.fixture
async def mail_app(database_url, smtp):
    app = await make_mail_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                              BASE_URL=BASE_URL)
    async with app.test_app():
        yield app


async def add_user(app, nickname, password="correct horse"):
    async with app.extensions["db_sessionmaker"]() as db:
        return await make_user(db, nickname, password=password)


def reset_link(message: EmailMessage) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+", text).group(0)


async def request_reset(client, email: str):
    response = await post(client, "/auth/reset_password_request", {"email": email})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    assert CHECK_EMAIL in flashes(await text_of(await client.get("/auth/login")))


# --- asking for a reset -----------------------------------------------------------------------

async def test_reset_request_rejects_bad_email(client):
    response = await post(client, "/auth/reset_password_request", {"email": "not-an-email"})
    assert response.status_code == 422
    html = await text_of(response)
    assert field_errors(html, "email") == ["Invalid email address."]
    assert input_value(html, "email") == "not-an-email"


# --- the mail and its link --------------------------------------------------------------------

async def test_password_reset_end_to_end(mail_app, smtp):
    await add_user(mail_app, "alice")
    client = mail_app.test_client()
    # Someone has been guessing alice's password: she is slowed down.
    for _ in range(Throttle.FREE_ATTEMPTS):
        await login(client, "alice", "guess")

    await request_reset(client, "Alice@Example.com")
    [message] = await smtp.wait()
    assert message["Subject"] == "[microblog] Reset your password"
    assert message["From"] == SENDER
    assert message["To"] == "alice@example.com"
    assert smtp.envelopes[0].rcpt_tos == ["alice@example.com"]
    link = reset_link(message)
    assert link.startswith(BASE_URL + "/auth/reset_password/")
    text = message.get_body(("plain",)).get_content()
    assert "Dear alice," in text
    html = message.get_body(("html",)).get_content()
    assert f'<a href="{link}">' in html  # a real link, not escaped markup

    path = link[len(BASE_URL):]
    page = await client.get(path)
    assert page.status_code == 200
    assert "Reset Your Password" in await text_of(page)

    response = await post(client, path, {"password": "new password", "password2": "other password"})
    assert response.status_code == 422
    assert "The two passwords do not match." in await text_of(response)

    response = await post(client, path, {"password": "new password", "password2": "new password"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    assert "Your password has been reset. You can log in now." in flashes(
        await text_of(await client.get("/auth/login")))

    assert "Invalid nickname or password." in await text_of(await login(client, "alice", "correct horse"))
    response = await login(client, "alice", "new password")
    assert response.status_code == 303
    await post(client, "/auth/logout")

    # The link was bound to the old password: it is spent.
    for method in ("get", "post"):
        if method == "get":
            response = await client.get(path)
        else:
            response = await post(client, path, {"password": "third password", "password2": "third password"})
        assert response.status_code == 303
        assert response.headers["Location"] == "/auth/reset_password_request"
        assert INVALID_LINK in flashes(await text_of(await client.get(response.headers["Location"])))
    assert (await login(client, "alice", "new password")).status_code == 303


async def test_link_uses_base_url_whatever_host_the_request_names(database_url, smtp):
    """A stranger's Host header must not turn the mailed link into theirs."""
    app = await make_mail_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                              BASE_URL="https://microblog.example")
    async with app.test_app():
        await add_user(app, "alice")
        client = app.test_client()
        await post(client, "/auth/reset_password_request", {"email": "alice@example.com"},
                   headers={"Host": "evil.example"})
        [message] = await smtp.wait()
        link = reset_link(message)
        assert re.match(r"^https://microblog\.example/auth/reset_password/[\w.-]+$", link), link
        assert (await client.get(link[len("https://microblog.example"):])).status_code == 200


class PastSigner(TimestampSigner):
    """Signs as if two hours ago (the app accepts tokens for one hour)."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * 3600


@pytest.mark.parametrize("kind", ["expired", "forged", "garbage", "unknown user"])
async def test_bad_reset_tokens_are_refused(mail_app, kind):
    user = await add_user(mail_app, "alice")
    payload = {"id": user.id, "pw": user.password_fingerprint}
    if kind == "expired":
        token = URLSafeTimedSerializer("test-secret", salt="reset-password", signer=PastSigner).dumps(payload)
    elif kind == "forged":
        token = URLSafeTimedSerializer("another-secret", salt="reset-password").dumps(payload)
    elif kind == "garbage":
        token = "not-a-token"
    else:
        token = URLSafeTimedSerializer("test-secret", salt="reset-password").dumps({**payload, "id": 999})
    # The same payload, signed properly and fresh, is accepted: only `kind` makes it bad.
    good = URLSafeTimedSerializer("test-secret", salt="reset-password").dumps(payload)
    client = mail_app.test_client()
    assert (await client.get(f"/auth/reset_password/{good}")).status_code == 200

    response = await post(client, f"/auth/reset_password/{token}",
                          {"password": "new password", "password2": "new password"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/reset_password_request"
    assert INVALID_LINK in flashes(await text_of(await client.get(response.headers["Location"])))
    assert (await login(client, "alice", "correct horse")).status_code == 303


async def test_unknown_email_gets_the_same_answer_and_no_mail(mail_app, smtp):
    await add_user(mail_app, "alice")
    client = mail_app.test_client()
    await request_reset(client, "nobody@example.com")
    await request_reset(client, "alice@example.com")
    await smtp.wait()
    await asyncio.sleep(0.2)
    assert [m["To"] for m in smtp.messages] == ["alice@example.com"]


# --- sending is a job -------------------------------------------------------------------------

async def test_failed_send_never_reaches_the_request(database_url, caplog):
    caplog.set_level(logging.WARNING, logger="microblog.jobs")
    app = await make_mail_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    async with app.test_app():
        await add_user(app, "alice")
        client = app.test_client()
        await request_reset(client, "alice@example.com")
        deadline = time.monotonic() + 5
        while not any("attempt 1" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the failed send was not logged"
            await asyncio.sleep(0.02)
    [record] = [r for r in caplog.records if "attempt 1" in r.getMessage()]
    assert record.name == "microblog.jobs" and record.levelno == logging.WARNING
    assert "[microblog] Reset your password" in record.getMessage()
    assert "alice@example.com" in record.getMessage()


async def job_states(app) -> list[tuple[str, int, str | None]]:
    async with app.extensions["db_sessionmaker"]() as db:
        return [tuple(row) for row in await db.execute(select(Job.state, Job.attempts, Job.last_error))]


async def wait_for_all(app, state: str, timeout: float = 10) -> None:
    """Every job in `state` (no job at all will do)."""
    deadline = time.monotonic() + timeout
    while {job[0] for job in await job_states(app)} - {state}:
        assert time.monotonic() < deadline, f"the mail jobs are {await job_states(app)}, not all {state}"
        await asyncio.sleep(0.02)


async def wait_for_state(app, state: str, timeout: float = 10) -> tuple[str, int, str | None]:
    deadline = time.monotonic() + timeout
    while True:
        [job] = await job_states(app)
        if job[0] == state:
            return job
        assert time.monotonic() < deadline, f"the mail job is {job}, not {state}"
        await asyncio.sleep(0.02)


async def test_mail_is_retried_then_given_up_loudly(database_url, caplog):
    caplog.set_level(logging.WARNING, logger="microblog.jobs")
    app = await make_mail_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(),
                              JOBS_MAX_ATTEMPTS=3, JOBS_RETRY_SECONDS=0.01, JOBS_POLL_SECONDS=0.05)
    async with app.test_app():
        await add_user(app, "alice")
        await request_reset(app.test_client(), "alice@example.com")
        state, attempts, error = await wait_for_state(app, "failed")
    assert attempts == 3 and "connection refused: nothing accepts mail at 127.0.0.1" in error
    records = [r for r in caplog.records if r.name == "microblog.jobs"]
    # The first failed attempt, then the repeats summed up (logged when the runner stops), and the end.
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    [given_up] = [r.getMessage() for r in records if r.levelno == logging.ERROR]
    assert [re.search(r"attempt (\d)", message).group(1) for message in warnings] == ["1", "2"]
    assert "failed for good after 3 attempts" in given_up
    assert "'[microblog] Reset your password' to alice@example.com" in given_up


async def test_mail_is_delivered_on_a_retry(database_url, caplog):
    caplog.set_level(logging.WARNING, logger="microblog.jobs")
    inbox, port = Inbox(), free_port()
    app = await make_mail_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                              JOBS_RETRY_SECONDS=0.5, JOBS_POLL_SECONDS=0.05)
    async with app.test_app():
        await add_user(app, "alice")
        await request_reset(app.test_client(), "alice@example.com")
        deadline = time.monotonic() + 5
        while not caplog.records:  # the first attempt failed: nothing listens yet
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        await asyncio.to_thread(controller.start)
        try:
            await inbox.wait()
            assert (await wait_for_state(app, "done"))[1] == 2
        finally:
            controller.stop()
    [received] = inbox.messages
    assert received["Subject"] == "[microblog] Reset your password" and received["From"] == SENDER
    assert len(caplog.records) == 1


async def test_reset_requests_for_one_address_are_slowed_down(database_url, smtp):
    """Asking again and again does not flood someone's mailbox; the answer stays the same."""
    app = await make_mail_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    async with app.test_app():
        await add_user(app, "alice")
        client = app.test_client()
        for _ in range(Throttle.FREE_ATTEMPTS + 3):
            await request_reset(client, "alice@example.com")
        await smtp.wait(Throttle.FREE_ATTEMPTS)
        await asyncio.sleep(0.2)
    assert len(smtp.messages) == Throttle.FREE_ATTEMPTS


async def test_one_address_gets_a_few_reset_mails_a_day_however_many_clients_ask(database_url, smtp, clock):
    """Asked now and then from ever new addresses (each under its own limit, and the address's
    short-term one forgotten in between), an address still gets RESET_MAILS_PER_DAY mails a day."""
    app = await make_mail_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, RESET_MAILS_PER_DAY=5)
    async with app.test_app():
        await add_user(app, "alice")
        answers = []
        for n in range(6):  # one every four hours, from six addresses: six answers, five mails
            response = await post(app.test_client(), "/auth/reset_password_request", {"email": "alice@example.com"},
                                  scope_base={"client": (f"192.0.2.{n}", 1000)})
            answers.append((response.status_code, response.headers["Location"]))
            await wait_for_all(app, "done")  # sent before its hour is over
            clock.step(hours=4)
        clock.step(hours=24)  # a quiet day later, one goes again
        response = await post(app.test_client(), "/auth/reset_password_request", {"email": "alice@example.com"},
                              scope_base={"client": ("192.0.2.99", 1000)})
        answers.append((response.status_code, response.headers["Location"]))
        assert answers == [(303, "/auth/login")] * 7  # the same answer, mail or not
        async with app.extensions["db_sessionmaker"]() as db:
            assert await db.scalar(select(func.count()).select_from(Job)) == 6
        await smtp.wait(6)
        await wait_for_all(app, "done")
    assert len(smtp.messages) == 6


# --- the job holds no link --------------------------------------------------------------------

async def test_the_job_table_never_holds_the_reset_link(mail_app, smtp):
    """The mail is rendered when it is sent: the job row holds whom and when, not the link (valid
    an hour), which would stay readable in the table for days."""
    await add_user(mail_app, "alice")
    client = mail_app.test_client()
    await request_reset(client, "alice@example.com")
    [message] = await smtp.wait()
    link = reset_link(message)
    token = link.rpartition("/")[2]
    await wait_for_all(mail_app, "done")
    async with mail_app.extensions["db_sessionmaker"]() as db:
        rows = [str(payload) for payload in await db.scalars(text("SELECT payload FROM job"))]
    assert len(rows) == 1
    assert all(token not in row and "/reset_password/" not in row for row in rows), rows
    page = await client.get(link[len(BASE_URL):])
    assert page.status_code == 200 and "Reset Your Password" in await text_of(page)


async def retried_reset_mail(database_url, caplog, clock, minutes_later: float):
    """A reset mail whose first attempt failed (nothing listening), sent again `minutes_later`
    after the request: what the SMTP server got, and the app."""
    caplog.set_level(logging.WARNING, logger="microblog.jobs")
    inbox, port = Inbox(), free_port()
    app = await make_mail_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, BASE_URL=BASE_URL,
                              JOBS_RETRY_SECONDS=0.3, JOBS_POLL_SECONDS=0.05)
    async with app.test_app():
        await add_user(app, "alice")
        client = app.test_client()
        await request_reset(client, "alice@example.com")
        deadline = time.monotonic() + 5
        while not caplog.records:  # the first attempt failed
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        clock.step(minutes=minutes_later)
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        await asyncio.to_thread(controller.start)
        try:
            await wait_for_all(app, "done")
            paths = [reset_link(message)[len(BASE_URL):] for message in inbox.messages]
            answers = []
            for minutes in (0, 11):  # then an hour and a minute after the request
                clock.step(minutes=minutes)
                answers += [(await client.get(path)).status_code for path in paths]
        finally:
            controller.stop()
    return answers


async def test_a_link_mailed_on_a_retry_expires_an_hour_after_the_request(database_url, caplog, clock):
    assert await retried_reset_mail(database_url, caplog, clock, minutes_later=50) == [200, 303]


async def test_a_reset_mail_that_could_only_go_after_its_hour_is_not_sent(database_url, caplog, clock):
    assert await retried_reset_mail(database_url, caplog, clock, minutes_later=61) == []
