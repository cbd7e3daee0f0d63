"""`quart users list` and `quart users set-password`: an operator can see the accounts and give
one a new password (asked for, never on the command line) without mail."""
import asyncio

from conftest import TEST_CONFIG, empty_database, make_user
from microblog import create_app
from microblog.accounts import User
from microblog.accounts.sessions import LoginSession
from microblog.db import new_session, utcnow


def run(app, work):
    async def inside():
        await app.startup()
        try:
            async with app.app_context():
                async with new_session() as db:
                    return await work(db)
        finally:
            await app.shutdown()
    return asyncio.run(inside())


def test_list_and_set_password(database_url):
    asyncio.run(empty_database(database_url))
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})

    async def seed(db):
        alice, bob = await make_user(db, "alice"), await make_user(db, "bob")
        bob.last_seen = utcnow().replace(year=2026, month=11, day=30, hour=9, minute=5)
        await LoginSession.start(db, alice, False, "Firefox")
        await db.commit()
    run(app, seed)

    listed = app.test_cli_runner().invoke(args=["users", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[1].split() == ["alice", "alice@example.com", "never"]
    assert lines[2].split() == ["bob", "bob@example.com", "2026-11-30", "09:05"]
    assert lines[-1] == "2 accounts"

    changed = app.test_cli_runner().invoke(args=["users", "set-password", "ALICE"],
                                           input="a new long password\na new long password\n")
    assert changed.exit_code == 0, changed.output
    assert "a new long password" not in changed.output  # asked for, never shown
    assert "alice's password is changed; every session of theirs has ended." in changed.output

    async def check(db):
        alice = await User.by_nickname(db, "alice")
        return await alice.check_password("a new long password"), await LoginSession.of_user(db, alice)
    works, sessions = run(app, check)
    assert works and sessions == []

    short = app.test_cli_runner().invoke(args=["users", "set-password", "bob"], input="short\nshort\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    nobody = app.test_cli_runner().invoke(args=["users", "set-password", "carol"],
                                          input="a long password\na long password\n")
    assert nobody.exit_code == 1 and "no account here is called 'carol'" in nobody.output
    mismatch = app.test_cli_runner().invoke(args=["users", "set-password", "bob"],
                                            input="a long password\nanother one!\n" * 3)
    assert mismatch.exit_code != 0

    async def bobs_password_unchanged(db):
        return await (await User.by_nickname(db, "bob")).check_password("correct horse")
    assert run(app, bobs_password_unchanged)


def test_secure_cookies_over_plain_http_are_explained_once_only_where_they_fail():
    from microblog.accounts import secure_cookie_warning
    config = {"QUART_AUTH_COOKIE_SECURE": True}
    assert secure_cookie_warning({**config, "BASE_URL": "http://localhost:5000"}) is None  # the run command
    assert secure_cookie_warning({**config, "BASE_URL": "https://example.org"}) is None
    assert secure_cookie_warning({"QUART_AUTH_COOKIE_SECURE": False, "BASE_URL": "http://192.168.1.20"}) is None
    said = secure_cookie_warning({**config, "BASE_URL": "http://192.168.1.20:5000"})
    assert "logging in will fail" in said and "SECURE_COOKIES=0" in said
