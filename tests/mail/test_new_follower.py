"""The new-follower mail, through a real SMTP server: what it says (text and HTML, absolute links,
escaped about-me, the recipient's language), when it is not sent (turned off, a rolled-back
follow, a follow undone before sending), and that it goes out exactly once whatever happens to the
SMTP server, the app or the number of runners."""
import asyncio
import re
import signal
from datetime import timedelta

import pytest
from quart import request
from sqlalchemy import update

from conftest import free_port, login, make_user, post, reset_schema, text_of
from microblog import create_app, follows
from microblog.accounts import LocalUser, User
from microblog.db import commit, new_session, utcnow
from microblog.jobs import Job, run_one
from microblog.follows import NEW_FOLLOWER

from .conftest import mail_config
from .support import BASE_URL, SENDER, SmtpServer, all_jobs, body, job_runner_process, jobs_settled, wait_until

SUBJECT = "[microblog] alice is now following you!"


async def add_users(app, *nicknames, **attributes) -> list[User]:
    async with app.extensions["db_sessionmaker"]() as db:
        users = [await make_user(db, nickname) for nickname in nicknames]
        for user in users:
            for name, value in attributes.get(user.nickname, {}).items():
                setattr(user, name, value)
        await db.commit()
        return users


async def logged_in(app, nickname: str, **headers):
    client = app.test_client()
    assert (await login(client, nickname)).status_code == 303
    return client


async def follow(client, nickname: str, htmx: bool = False):
    response = await post(client, f"/user/{nickname}/follow", htmx=htmx)
    assert response.status_code in (200, 303), response.status_code
    return response


async def test_the_mail_in_english_text_and_html(mail_app, smtp):
    alice, bob = await add_users(mail_app, "alice", "bob",
                                 alice={"about_me": "I <b>like</b> tea & \"cake\""})
    client = await logged_in(mail_app, "alice")
    await follow(client, "bob")
    [message] = await smtp.wait()
    assert message["Subject"] == SUBJECT
    assert message["From"] == SENDER and message["To"] == "bob@example.com"
    assert re.fullmatch(r"<[^@\s]+@example\.org>", message["Message-ID"])

    text = body(message, "plain")
    assert text.startswith("Dear bob,\n\nalice is now following you.\n")
    assert "I <b>like</b> tea & \"cake\"" in text  # plain text is text: nothing to escape
    assert f"{BASE_URL}/user/alice\n" in text
    assert f"{BASE_URL}/edit_profile\n" in text
    assert "The microblog team" in text

    html = body(message, "html")
    assert '<html lang="en">' in html
    assert f'<a href="{BASE_URL}/user/alice"' in html  # absolute: a mail has no page to be relative to
    assert f'<img src="{BASE_URL}/avatar/{alice.id}.svg?v=1" width="64" height="64" alt="alice"' in html
    assert "I &lt;b&gt;like&lt;/b&gt; tea &amp; &#34;cake&#34;" in html and "<b>like" not in html
    assert f'<a href="{BASE_URL}/edit_profile">Edit Profile</a>' in html
    assert "<strong>alice</strong></a> is now following you." in html
    # The avatar link works: the site serves the picture.
    assert (await client.get(f"/avatar/{alice.id}.svg?v=1")).status_code == 200


async def test_a_spanish_recipient_gets_spanish_whoever_follows(mail_app, smtp):
    """The recipient's language, not the follower's: there is no request when the mail is made."""
    await add_users(mail_app, "alice", "bob", "carol", bob={"locale": "es"})
    client = await logged_in(mail_app, "alice")
    client_headers = {"Accept-Language": "en"}
    await post(client, "/user/bob/follow", headers=client_headers)
    [to_bob] = await smtp.wait()
    assert to_bob["Subject"] == "[microblog] ¡alice ahora te sigue!"
    text = body(to_bob, "plain")
    assert text.startswith("Hola, bob:\n\nalice ahora te sigue.\n")
    assert "Puedes desactivar estos correos" in text and "El equipo de microblog" in text
    html = body(to_bob, "html")
    assert '<html lang="es">' in html and "</a> ahora te sigue." in html and "Ver su perfil" in html

    # Carol chose no language: the site's default, even for a follower who reads Spanish.
    await post(client, "/user/carol/follow", headers={"Accept-Language": "es"})
    _, to_carol = await smtp.wait(2)
    assert to_carol["Subject"] == SUBJECT and '<html lang="en">' in body(to_carol, "html")


async def test_the_setting_is_on_by_default_and_turning_it_off_stops_the_mail(mail_app, smtp):
    await add_users(mail_app, "alice", "bob", "carol")
    bob_client = await logged_in(mail_app, "bob")
    page = await text_of(await bob_client.get("/edit_profile"))
    checkbox = re.search(r'<input[^>]*name="notify_new_followers"[^>]*>', page).group(0)
    assert 'type="checkbox"' in checkbox and "checked" in checkbox and 'id="notify_new_followers"' in checkbox
    assert '<label class="form-check-label" for="notify_new_followers">Email me when someone new follows me</label>' in page

    # A browser sends nothing for an unticked box.
    response = await post(bob_client, "/edit_profile", {"nickname": "bob", "about_me": ""})
    assert response.status_code == 303
    page = await text_of(await bob_client.get("/edit_profile"))
    assert "checked" not in re.search(r'<input[^>]*name="notify_new_followers"[^>]*>', page).group(0)
    async with mail_app.extensions["db_sessionmaker"]() as db:
        assert (await User.by_nickname(db, "bob")).notify_new_followers is False

    await follow(await logged_in(mail_app, "alice"), "bob")
    assert [job.kind for job in await all_jobs(mail_app)] == []  # nothing even queued

    # On again: the next follower is told.
    await post(bob_client, "/edit_profile", {"nickname": "bob", "about_me": "", "notify_new_followers": "y"})
    await follow(await logged_in(mail_app, "carol"), "bob")
    [message] = await smtp.wait()
    assert message["Subject"] == "[microblog] carol is now following you!"
    await smtp.none_more(1)


async def test_a_refused_profile_form_saves_no_setting(mail_app):
    await add_users(mail_app, "alice", "bob")
    client = await logged_in(mail_app, "bob")
    response = await post(client, "/edit_profile", {"nickname": "alice", "about_me": ""})  # taken
    assert response.status_code == 422
    page = await text_of(response)
    assert "checked" not in re.search(r'<input[^>]*name="notify_new_followers"[^>]*>', page).group(0)
    async with mail_app.extensions["db_sessionmaker"]() as db:
        assert (await User.by_nickname(db, "bob")).notify_new_followers is True


async def test_a_follow_that_rolls_back_sends_nothing(database_url, smtp):
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, smtp.port, PROPAGATE_EXCEPTIONS=False))

    @app.after_request
    async def fail_after_the_view(response):  # runs before the request's commit
        if request.path.endswith("/follow"):
            raise RuntimeError("boom")
        return response

    async with app.test_app():
        await add_users(app, "alice", "bob")
        client = await logged_in(app, "alice")
        assert (await post(client, "/user/bob/follow")).status_code == 500
        await asyncio.sleep(0.3)
        assert await all_jobs(app) == []
    assert smtp.messages == []


async def test_following_twice_or_at_once_sends_one_mail(mail_app, smtp):
    await add_users(mail_app, "alice", "bob")
    client = await logged_in(mail_app, "alice")
    other_tab = mail_app.test_client()
    other_tab.cookie_jar = client.cookie_jar
    await follow(client, "bob")
    await follow(client, "bob", htmx=True)
    await asyncio.gather(follow(client, "bob"), follow(other_tab, "bob", htmx=True))
    await smtp.wait()
    await smtp.none_more(1)
    assert [job.kind for job in await all_jobs(mail_app)] == [NEW_FOLLOWER]


async def test_follow_unfollow_follow_is_one_mail_a_day(mail_app, smtp):
    """Someone who clicks follow and unfollow again and again does not fill the inbox."""
    await add_users(mail_app, "alice", "bob")
    client = await logged_in(mail_app, "alice")
    for _ in range(3):
        await follow(client, "bob")
        await smtp.wait()
        await post(client, "/user/bob/unfollow")
    await follow(client, "bob")
    jobs = await jobs_settled(mail_app)
    # A follow while the last one's job still waits queues none (its key): at most one job a follow.
    assert 1 <= len(jobs) <= 4 and all(job.state == "done" for job in jobs)
    await smtp.none_more(1)


@pytest.fixture
async def quiet_app(database_url, smtp):
    """Jobs run by hand (run_one), to change things between the follow and the sending."""
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, smtp.port, JOBS_RUN_IN_WEB=False))
    async with app.test_app():
        yield app


@pytest.mark.parametrize("change", ["unfollowed", "turned off", "follower deleted", "recipient deleted"])
async def test_what_changed_before_sending_is_respected(quiet_app, smtp, change, caplog):
    alice, bob = await add_users(quiet_app, "alice", "bob")
    client = await logged_in(quiet_app, "alice")
    await follow(client, "bob")
    async with quiet_app.extensions["db_sessionmaker"]() as db:
        if change == "unfollowed":
            await post(client, "/user/bob/unfollow")
        elif change == "turned off":
            await db.execute(update(LocalUser).where(LocalUser.user_id == bob.id).values(notify_new_followers=False))
        else:
            await db.delete(await db.get(User, alice.id if change == "follower deleted" else bob.id))
        await db.commit()
    caplog.set_level("DEBUG", logger="microblog.mail")
    assert await run_one(quiet_app) is True
    [job] = await all_jobs(quiet_app)
    assert job.state == "done"
    await smtp.none_more(0, settle=0.1)
    [line] = [r for r in caplog.records if "not sent" in r.getMessage()]
    assert f"new-follower mail {alice.id}->{bob.id} not sent" in line.getMessage()
    assert line.levelname == "DEBUG"  # an ordinary race, not news for a site owner


async def test_a_retry_is_the_same_message(quiet_app, smtp):
    """The Message-ID is fixed by the job: a retry of a send whose answer was lost is a duplicate
    that mail systems drop, not a second message."""
    await add_users(quiet_app, "alice", "bob")
    await follow(await logged_in(quiet_app, "alice"), "bob")
    [job] = await all_jobs(quiet_app)
    assert await run_one(quiet_app) is True
    async with quiet_app.app_context():  # as if the answer to the first send had been lost
        async with new_session() as db:
            await db.execute(update(Job).values(state="queued", run_after=utcnow() - timedelta(seconds=1)))
            await commit(db)
    assert await run_one(quiet_app) is True
    first, second = await smtp.wait(2)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].startswith(f"<microblog.job{job.id}.")


async def test_smtp_down_at_follow_time_then_back(database_url, caplog):
    port = free_port()
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, port, JOBS_RETRY_SECONDS=0.3, JOBS_POLL_SECONDS=0.05))
    caplog.set_level("WARNING", logger="microblog.jobs")
    async with app.test_app():
        await add_users(app, "alice", "bob")
        await follow(await logged_in(app, "alice"), "bob")  # the page answers at once all the same

        async def tried():
            return (await all_jobs(app))[0].attempts >= 1 and (await all_jobs(app))[0].state == "queued"
        await wait_until(tried, what="a failed first attempt")
        smtp = SmtpServer(port).start()
        try:
            [job] = await jobs_settled(app)
            await smtp.none_more(1)
        finally:
            smtp.stop()
    assert (job.state, job.attempts >= 2) == ("done", True)
    assert smtp.messages[0]["Subject"] == SUBJECT
    assert "attempt 1 failed" in caplog.text and SUBJECT in caplog.text


async def test_a_restart_while_smtp_is_down(database_url):
    port = free_port()
    await reset_schema(database_url)
    config = mail_config(database_url, port, JOBS_RETRY_SECONDS=0.2, JOBS_POLL_SECONDS=0.05)
    first = create_app(config)
    async with first.test_app():
        await add_users(first, "alice", "bob")
        await follow(await logged_in(first, "alice"), "bob")

        async def tried():
            return (await all_jobs(first))[0].attempts >= 1
        await wait_until(tried, what="a failed first attempt")
    # The app has stopped; the mail is still owed.
    assert [(job.kind, job.state) for job in await all_jobs(first)] == [(NEW_FOLLOWER, "queued")]

    smtp = SmtpServer(port).start()
    try:
        second = create_app(config)
        async with second.test_app():
            await jobs_settled(second)
            await smtp.none_more(1)
    finally:
        smtp.stop()
    assert smtp.messages[0]["Subject"] == SUBJECT


async def test_two_runner_processes_send_each_follower_mail_once(database_url, smtp, tmp_path):
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, smtp.port, JOBS_RUN_IN_WEB=False))
    logs = [tmp_path / f"runner{i}.log" for i in range(2)]
    runners = [job_runner_process(database_url, smtp.port, log) for log in logs]
    try:
        async def both_started():
            return all("job runner started" in log.read_text() for log in logs)
        await wait_until(both_started, timeout=60, what="both runners to start")
        async with app.test_app():
            users = await add_users(app, "alice", *[f"fan{n}" for n in range(12)])
            async with app.app_context():
                async with new_session() as db:
                    alice = await db.get(User, users[0].id)
                    for fan_id in [user.id for user in users[1:]]:
                        fan = await db.get(User, fan_id)
                        assert await follows.follow(db, fan, alice)  # its listener queues the mail
                    await commit(db)
            await jobs_settled(app, timeout=30)
            await smtp.none_more(12)
    finally:
        for runner in runners:
            runner.send_signal(signal.SIGTERM)
        for runner in runners:
            assert runner.wait(10) == 0  # a clean stop
    subjects = sorted(message["Subject"] for message in smtp.messages)
    assert subjects == sorted(f"[microblog] fan{n} is now following you!" for n in range(12))
    assert len({message["Message-ID"] for message in smtp.messages}) == 12
    assert all("job runner stopped" in log.read_text() for log in logs)


async def test_a_follower_from_elsewhere_is_told_by_handle_with_a_link_to_their_profile_here(database_url, smtp):
    from federation.conftest import Elsewhere
    from microblog.federation.remote import parse_actor, remember
    elsewhere = Elsewhere()
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, smtp.port, FEDERATION=True, FEDERATION_ALLOW_PRIVATE_ADDRESSES=True))
    try:
        async with app.test_app():
            [bob] = await add_users(app, "bob")
            carol = elsewhere.person("carol")
            async with app.app_context(), app.extensions["db_sessionmaker"]() as db:
                them = await remember(db, parse_actor(elsewhere.documents["/users/carol"], carol))
                await follows.follow(db, them, await db.get(User, bob.id))  # her server's Follow, accepted
                await db.commit()
                await run_one(app)
            [message] = await smtp.wait()
    finally:
        elsewhere.close()
    assert message["Subject"] == f"[microblog] carol@{elsewhere.host} is now following you!"
    text = body(message, "plain")
    assert f"carol@{elsewhere.host} is now following you." in text
    assert f"{BASE_URL}/user/carol@{elsewhere.host}" in text
