"""`quart mail test ADDRESS` against real SMTP servers (aiosmtpd): it says what went wrong and exits
non-zero; and MAIL_SUPPRESS_SEND writes messages to the log instead of sending them."""
import logging
import os
import socket
import ssl
import subprocess
import sys
from importlib.resources import files

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import TEST_CONFIG, free_port, login, make_user, post, reset_schema
from microblog import create_app

from .conftest import mail_config
from .support import ROOT, SENDER, SmtpServer, body, jobs_settled

ADDRESS = "someone@example.com"
# A self-signed certificate and its key, shipped with aiosmtpd for its own tests.
CERTS = files("aiosmtpd") / "tests" / "certs"


def run_mail_test(address: str = ADDRESS, **config):
    app = create_app({**TEST_CONFIG, "MAIL_SERVER": "127.0.0.1", "MAIL_DEFAULT_SENDER": SENDER, **config})
    return app.test_cli_runner().invoke(args=["mail", "test", address])


@pytest.fixture
def server(request):
    smtp = SmtpServer(free_port(), **getattr(request, "param", {})).start()
    yield smtp
    smtp.stop()


def test_a_test_message_is_sent(server):
    result = run_mail_test(MAIL_PORT=server.port)
    assert result.exit_code == 0, result.output
    assert result.output == f"Sent a test message to {ADDRESS} through 127.0.0.1:{server.port} " \
                            "(no TLS, without logging in).\n"
    [message] = server.messages
    assert message["Subject"] == "microblog test message" and message["To"] == ADDRESS
    assert message["From"] == SENDER and "quart mail test" in body(message, "plain")


def test_connection_refused():
    port = free_port()
    result = run_mail_test(MAIL_PORT=port)
    assert result.exit_code == 1
    assert result.output.startswith(f"Not sent: connection refused: nothing accepts mail at 127.0.0.1:{port} "
                                    "(check MAIL_SERVER and MAIL_PORT; to try the site without a mail server, "
                                    "MAIL_SUPPRESS_SEND=1 writes mail into the log).\n")


def test_connection_refused_real_process_exit_status():
    """The command as an operator runs it: a failure is a non-zero exit status."""
    env = {**os.environ, "SECRET_KEY": "x", "BASE_URL": "https://example.org", "MAIL_SERVER": "127.0.0.1",
           "MAIL_PORT": str(free_port()), "MICROBLOG_DOTENV": "/nonexistent/.env", "LOG_TO_STDOUT": "1"}
    done = subprocess.run([sys.executable, "-m", "quart", "--app", "microblog", "mail", "test", ADDRESS],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Not sent: connection refused" in done.stderr and done.stdout == ""


def test_an_unknown_host_is_unreachable():
    result = run_mail_test(MAIL_SERVER="no-such-host.invalid", MAIL_PORT=25)
    assert result.exit_code == 1
    assert result.output.startswith("Not sent: unreachable: cannot connect to no-such-host.invalid:25:")


def test_a_server_that_never_answers_is_unreachable():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never greets
        port = silent.getsockname()[1]
        result = run_mail_test(MAIL_PORT=port, MAIL_TIMEOUT=0.5)
    assert result.exit_code == 1
    assert result.output.startswith(f"Not sent: unreachable: no answer from 127.0.0.1:{port} within 0.5 s.\n")


@pytest.mark.parametrize("server", [{"refuse": ADDRESS}], indirect=True)
def test_a_refused_recipient(server):
    result = run_mail_test(MAIL_PORT=server.port)
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Not sent: recipient refused: the mail server at 127.0.0.1:{server.port} would not take mail for "
        f"{ADDRESS} (550 5.1.1 No such user here).\n")
    assert server.messages == []


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"blog", b"right")
    return AuthResult(success=ok, handled=False)


@pytest.mark.parametrize("server", [{"authenticator": authenticate, "auth_require_tls": False}], indirect=True)
def test_authentication(server):
    result = run_mail_test(MAIL_PORT=server.port, MAIL_USERNAME="blog", MAIL_PASSWORD="wrong")
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Not sent: authentication refused: the mail server at 127.0.0.1:{server.port} did not accept "
        "MAIL_USERNAME and MAIL_PASSWORD (535")
    assert "wrong" not in result.output  # the password is never printed
    result = run_mail_test(MAIL_PORT=server.port, MAIL_USERNAME="blog", MAIL_PASSWORD="right")
    assert result.exit_code == 0, result.output
    assert "(STARTTLS if offered, as blog)" in result.output  # this one does not offer it
    assert len(server.messages) == 1


def starttls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(CERTS / "server.crt"), str(CERTS / "server.key"))
    return context


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_tls_failures():
    """A server whose certificate cannot be verified (self-signed), STARTTLS asked of a server
    without it, and implicit TLS on a port that does not speak it."""
    smtp = SmtpServer(free_port(), tls_context=starttls_context(), require_starttls=True).start()
    try:
        result = run_mail_test(MAIL_PORT=smtp.port, MAIL_USE_TLS=True)
        assert result.exit_code == 1
        assert result.output.startswith(f"Not sent: TLS failure: the certificate of 127.0.0.1:{smtp.port} "
                                        "could not be verified (self-signed certificate).\n")
        assert "(STARTTLS, without logging in)" in result.output
        result = run_mail_test(MAIL_PORT=smtp.port)  # no TLS asked: the server insists
        assert result.exit_code == 1
        assert "Must issue a STARTTLS command first (set MAIL_USE_TLS=1)" in result.output
        # With a password, STARTTLS is used whenever it is offered (here it fails: never in clear).
        result = run_mail_test(MAIL_PORT=smtp.port, MAIL_USERNAME="blog", MAIL_PASSWORD="secret")
        assert result.exit_code == 1
        assert result.output.startswith(f"Not sent: TLS failure: the certificate of 127.0.0.1:{smtp.port}")
    finally:
        smtp.stop()
    plain = SmtpServer(free_port()).start()
    try:
        result = run_mail_test(MAIL_PORT=plain.port, MAIL_USE_TLS=True)
        assert result.exit_code == 1
        assert result.output.startswith(f"Not sent: TLS failure: the mail server at 127.0.0.1:{plain.port} "
                                        "does not offer STARTTLS")
        result = run_mail_test(MAIL_PORT=plain.port, MAIL_USE_SSL=True)
        assert result.exit_code == 1
        assert result.output.startswith(f"Not sent: TLS failure with 127.0.0.1:{plain.port}: ")
        assert "wrong version number" in result.output and "MAIL_USE_SSL is for port 465" in result.output
    finally:
        plain.stop()
    assert plain.messages == [] and smtp.messages == []


def test_tls_settings_are_exclusive():
    with pytest.raises(RuntimeError, match="MAIL_USE_TLS .* and MAIL_USE_SSL"):
        create_app({**TEST_CONFIG, "MAIL_USE_TLS": True, "MAIL_USE_SSL": True})


def test_suppressed_sending_writes_to_the_log(caplog):
    caplog.set_level(logging.INFO, logger="microblog.mail")
    result = run_mail_test(MAIL_PORT=free_port(), MAIL_SUPPRESS_SEND=True)  # nothing listens: not tried
    assert result.exit_code == 0, result.output
    assert "MAIL_SUPPRESS_SEND is set: the message to someone@example.com was written to the log" in result.output
    [record] = [r for r in caplog.records if r.name == "microblog.mail"]
    assert record.levelno == logging.INFO
    assert "Subject: microblog test message" in record.getMessage()
    assert f"To: {ADDRESS}" in record.getMessage()


async def test_suppressed_sending_completes_the_jobs(database_url, caplog):
    """In development a reset mail (a job) goes to the log, and its link can be followed from there."""
    caplog.set_level(logging.INFO, logger="microblog.mail")
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, free_port(), MAIL_SUPPRESS_SEND=True))
    async with app.test_app():
        async with app.extensions["db_sessionmaker"]() as db:
            await make_user(db, "alice")
        await post(app.test_client(), "/auth/reset_password_request", {"email": "alice@example.com"})
        [job] = await jobs_settled(app)
    assert job.state == "done"
    [record] = [r for r in caplog.records if r.name == "microblog.mail"]
    assert "Subject: [microblog] Reset your password" in record.getMessage()
    assert "To: alice@example.com" in record.getMessage()
    assert "\nDear alice,\n" in record.getMessage() and "/auth/reset_password/" in record.getMessage()


async def test_suppressed_mail_is_readable_in_the_log(database_url, caplog):
    """A Spanish new-follower mail, decoded: no base64 between the developer and the text."""
    caplog.set_level(logging.INFO, logger="microblog.mail")
    await reset_schema(database_url)
    app = create_app(mail_config(database_url, free_port(), MAIL_SUPPRESS_SEND=True))
    async with app.test_app():
        async with app.extensions["db_sessionmaker"]() as db:
            await make_user(db, "alice")
            bob = await make_user(db, "bob")
            bob.locale = "es"
            await db.commit()
        client = app.test_client()
        await login(client, "alice")
        await post(client, "/user/bob/follow")
        [job] = await jobs_settled(app)
    assert job.state == "done"
    [record] = [r for r in caplog.records if r.name == "microblog.mail"]
    assert "Subject: [microblog] ¡alice ahora te sigue!\n" in record.getMessage()
    assert "\nHola, bob:\n\nalice ahora te sigue.\n" in record.getMessage()
