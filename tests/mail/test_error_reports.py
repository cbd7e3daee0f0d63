"""Unhandled errors mailed to ADMINS through a real SMTP server: what the report says (and does not),
one per kind of error per interval across workers, and sent directly when the database is down."""
import asyncio
import logging
import re
from datetime import timedelta

import pytest
from quart import Quart
from sqlalchemy import select, text, update

from conftest import free_port, login, make_user, post, reset_schema, text_of
from helpers import make_posting_fail
from microblog import create_app
from microblog.db import make_engine, utcnow
from microblog.mail import SEND, MailLimit, reports

from .conftest import mail_config
from .support import all_jobs, body, jobs_settled

ADMINS = ["admin@example.com", "ops@example.com"]
NOTIFIED = "The administrator has been notified."


def failing_app(database_url: str, smtp_port: int, **config):
    """The app as in production (errors reach the 500 handler and are reported), with pages that fail."""
    app = create_app(mail_config(database_url, smtp_port, **{
        "PROPAGATE_EXCEPTIONS": False, "REPORT_ERRORS": True, "ADMINS": ADMINS, **config}))

    @app.route("/boom/<kind>")
    async def boom(kind):
        if kind == "key":
            return {}["missing"]  # another kind of error
        raise RuntimeError("boom")

    @app.route("/explode/reset_password/<token>")
    async def explode(token):
        raise ValueError(f"could not use {token}")

    return app


@pytest.fixture
async def report_app(database_url, smtp):
    await reset_schema(database_url)
    app = failing_app(database_url, smtp.port)
    async with app.test_app():
        yield app


async def reported(app, database_up: bool = True) -> None:
    """The reports of the errors so far are queued (or sent) and their jobs have run."""
    while app.background_tasks:
        await asyncio.gather(*app.background_tasks)
    if database_up:
        await jobs_settled(app)


async def fail(client, url: str) -> str:
    response = await client.get(url)
    assert response.status_code == 500
    return await text_of(response)


async def test_the_report_and_its_limit_per_kind_of_error(report_app, smtp):
    async with report_app.extensions["db_sessionmaker"]() as db:
        alice = await make_user(db, "alice")
    client = report_app.test_client()
    assert (await login(client, "alice")).status_code == 303

    assert NOTIFIED in await fail(client, "/boom/runtime?email=alice@example.com")
    [report] = await smtp.wait()
    assert report["Subject"] == "microblog failure"
    assert report["To"] == "admin@example.com, ops@example.com"
    assert not report.is_multipart()
    report_text = body(report, "plain")
    assert "  error:    RuntimeError: boom\n" in report_text
    assert "  request:  GET /boom/runtime?… (endpoint boom)\n" in report_text
    assert f"  user id:  {alice.id}\n" in report_text
    assert "Traceback (most recent call last):" in report_text and 'raise RuntimeError("boom")' in report_text
    assert "alice@example.com" not in report_text  # nothing of the query string

    # The same error again (a crash loop): counted, not mailed.
    for _ in range(3):
        assert NOTIFIED in await fail(client, "/boom/runtime")
    await reported(report_app)
    await smtp.none_more(1)

    # Another kind of error has its own report.
    await fail(client, "/boom/key")
    _, other = await smtp.wait(2)
    assert "  error:    KeyError: 'missing'\n" in body(other, "plain")

    # Once the interval has passed, the first kind is mailed again, with the count held back.
    async with report_app.extensions["db_sessionmaker"]() as db:
        rows = list(await db.scalars(select(MailLimit).order_by(MailLimit.last_sent)))
        assert [row.held_back for row in rows] == [3, 0]
        await db.execute(update(MailLimit).where(MailLimit.key == rows[0].key)
                         .values(last_sent=utcnow() - timedelta(seconds=601)))
        await db.commit()
    await fail(client, "/boom/runtime")
    *_, again = await smtp.wait(3)
    assert "3 more error(s) of this kind were not mailed since the last report." in body(again, "plain")
    await reported(report_app)
    await smtp.none_more(3)
    assert {job.kind for job in await all_jobs(report_app)} == {SEND}


async def test_no_reset_token_in_the_report(report_app, smtp):
    await fail(report_app.test_client(), "/explode/reset_password/SeCrEtToKeN.abc?next=/x")
    [report] = await smtp.wait()
    report_text = report.as_string()
    assert "SeCrEtToKeN" not in report_text
    assert "GET /explode/reset_password/…?… (endpoint explode)" in body(report, "plain")
    assert "ValueError: could not use" in body(report, "plain")
    assert "  user id:  not logged in\n" in body(report, "plain")


async def test_a_failing_commit_in_a_real_view_is_reported(report_app, smtp):
    async with report_app.extensions["db_sessionmaker"]() as db:
        await make_user(db, "alice")
        await make_posting_fail(db)
    client = report_app.test_client()
    await login(client, "alice")
    response = await post(client, "/post", {"post": "this will fail"})
    assert response.status_code == 500 and NOTIFIED in await text_of(response)
    [report] = await smtp.wait()
    report_text = body(report, "plain")
    assert re.search(r"^  error:    \w+Error: \(.+\) .*boom'?\)?$", report_text, re.M)  # the first line only
    assert "  request:  POST /post (endpoint posts.publish)" in report_text
    assert "  raised in microblog.posts.models.publish:" in report_text
    assert "this will fail" not in report_text  # no form data, no SQL parameters


async def test_two_workers_send_one_report(database_url, smtp):
    await reset_schema(database_url)
    first, second = failing_app(database_url, smtp.port), failing_app(database_url, smtp.port)
    async with first.test_app(), second.test_app():
        await asyncio.gather(fail(first.test_client(), "/boom/runtime"), fail(second.test_client(), "/boom/runtime"),
                             fail(first.test_client(), "/boom/runtime"), fail(second.test_client(), "/boom/runtime"))
        await reported(first)
        await reported(second)
        await smtp.none_more(1)


async def test_not_while_testing_unless_asked(database_url, smtp):
    await reset_schema(database_url)
    app = failing_app(database_url, smtp.port, REPORT_ERRORS=False)
    async with app.test_app():
        assert NOTIFIED in await fail(app.test_client(), "/boom/runtime")
        await reported(app)
        assert await all_jobs(app) == []
    assert smtp.messages == []
    for testing, debug, reporting in [(True, False, False), (False, True, False), (False, False, True)]:
        production = Quart(__name__)  # not create_app: a production app would set up log files
        production.config.update(TESTING=testing, DEBUG=debug)
        reports.init_app(production)
        assert production.config["REPORT_ERRORS"] is reporting


@pytest.mark.parametrize("url", [
    "sqlite+aiosqlite:////nonexistent-folder/blog.sqlite",
    f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test_mail",  # nothing listens there
], ids=["sqlite", "postgresql"])  # ids: the same in every xdist worker (not the port)
async def test_with_the_database_down_the_report_is_sent_directly(url, smtp, caplog):
    app = failing_app(url, smtp.port)
    async with app.test_app():
        client = app.test_client()
        response = await client.get("/explore")
        assert response.status_code == 503  # the page says what is wrong, as before
        [report] = await smtp.wait()
        report_text = body(report, "plain")
        assert report["Subject"] == "microblog failure"
        assert "The database is unreachable: this report was mailed directly (not queued)" in report_text
        assert "  request:  GET /explore (endpoint posts.explore)" in report_text
        for _ in range(3):  # the same trouble again: limited in this process
            assert (await client.get("/explore")).status_code == 503
        await reported(app, database_up=False)
        await smtp.none_more(1)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("microblog.mail")]


async def test_with_the_database_and_the_mail_server_down_it_is_logged(caplog):
    app = failing_app("sqlite+aiosqlite:////nonexistent-folder/blog.sqlite", free_port())
    async with app.test_app():
        assert (await app.test_client().get("/explore")).status_code == 503
        await reported(app, database_up=False)
    [record] = [r for r in caplog.records if r.name == "microblog.mail"]
    assert record.levelno == logging.ERROR
    assert "could not mail an error report to the admins (connection refused" in record.getMessage()


async def test_when_the_report_cannot_be_queued_it_is_sent_directly(database_url, smtp, caplog):
    await reset_schema(database_url)
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE mail_limit"))
    await engine.dispose()
    app = failing_app(database_url, smtp.port)
    async with app.test_app():
        await fail(app.test_client(), "/boom/runtime")
        [report] = await smtp.wait()
        assert "this report was mailed directly" in body(report, "plain")
        await reported(app)
    assert "could not queue an error report" in caplog.text
