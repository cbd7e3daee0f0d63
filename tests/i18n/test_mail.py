"""Mail in the recipient's language: the reset mail in the language they chose, else in the
language of the request that asked for it (the follower mail is tested in tests/mail)."""
import pytest

from conftest import make_user, post
from mail.conftest import mail_app, smtp  # noqa: F401 (fixtures: an app that mails a real SMTP server)
from mail.support import body


async def ask_for_reset(app, accept_language: str) -> None:
    response = await post(app.test_client(), "/auth/reset_password_request", {"email": "bob@example.com"},
                          headers={"Accept-Language": accept_language})
    assert response.status_code == 303


@pytest.mark.parametrize("saved, asked_in, subject, greeting", [
    ("es", "en-GB", "[microblog] Restablece tu contraseña", "Hola, bob:"),
    (None, "es-MX", "[microblog] Restablece tu contraseña", "Hola, bob:"),
    ("en", "es", "[microblog] Reset your password", "Dear bob,"),
    (None, "fr", "[microblog] Reset your password", "Dear bob,"),
])
async def test_the_reset_mail_is_in_the_recipients_language(mail_app, smtp, saved, asked_in, subject, greeting):
    async with mail_app.extensions["db_sessionmaker"]() as db:
        bob = await make_user(db, "bob")
        bob.locale = saved
        await db.commit()
    await ask_for_reset(mail_app, asked_in)
    [message] = await smtp.wait()
    assert message["Subject"] == subject
    assert body(message, "plain").startswith(greeting)
    assert f"<p>{greeting}</p>" in body(message, "html")
