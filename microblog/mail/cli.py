"""`quart mail test ADDRESS`: send a message now, through the configured server, and say plainly
what went wrong if it could not go."""
import asyncio
import socket

import click
from quart import Quart

from .messages import build_message, deliver, describe_failure, starttls

TEST_TEXT = """This is a test message from microblog ({host}).

It was sent with `quart mail test` through {server}. If you can read it, the site can send mail:
password resets, new-follower notices and error reports to the admins.
"""


def settings(config: dict) -> str:
    security = "implicit TLS" if config.get("MAIL_USE_SSL") else {
        True: "STARTTLS", None: "STARTTLS if offered", False: "no TLS"}[starttls(config)]
    login = f"as {config['MAIL_USERNAME']}" if config.get("MAIL_USERNAME") else "without logging in"
    return f"{config['MAIL_SERVER']}:{config['MAIL_PORT']} ({security}, {login})"


def register_cli(app: Quart) -> None:
    mail = click.Group("mail", help="Outgoing mail.")
    app.cli.add_command(mail)

    @mail.command(help="Send a test message to ADDRESS now (not as a job) and report what happened.")
    @click.argument("address")
    def test(address):
        config = app.config
        server = settings(config)

        async def send():
            async with app.app_context():
                message = build_message("microblog test message", [address],
                                        TEST_TEXT.format(host=socket.gethostname(), server=server))
                await asyncio.wait_for(deliver(config, message), config["MAIL_TIMEOUT"] + 5)

        try:
            asyncio.run(send())
        except Exception as error:
            click.echo(f"Not sent: {describe_failure(error, config)}.", err=True)
            click.echo(f"  (settings: {server}, sender {config['MAIL_DEFAULT_SENDER']})", err=True)
            raise SystemExit(1)
        if config.get("MAIL_SUPPRESS_SEND"):
            click.echo(f"MAIL_SUPPRESS_SEND is set: the message to {address} was written to the log "
                       "(logger microblog.mail), not sent.")
        else:
            click.echo(f"Sent a test message to {address} through {server}.")
