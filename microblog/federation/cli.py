"""`quart federation block-domain HOST | unblock-domain HOST | blocked-domains`: the servers the
operator blocks for everyone (domain_blocks.py says what a block does)."""
import asyncio

import click
from quart import Quart

from .. import db as database
from . import domain_blocks


def register_cli(app: Quart) -> None:
    federation = click.Group("federation", help="Other servers: the ones this site blocks.")
    app.cli.add_command(federation)

    def in_transaction(work):
        async def run():
            async with database.command_context(app):
                async with database.separate_transaction() as db:
                    return await work(db)
        return asyncio.run(run())

    @federation.command("block-domain", help="Block a server and those under it (example.com: a.example.com too): "
                                             "nothing taken from it or sent to it, its people hidden, follows ended.")
    @click.argument("host")
    def block_domain(host):
        try:
            host = domain_blocks.normalise(host)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="HOST") from error
        hidden = in_transaction(lambda db: domain_blocks.block(db, host))
        click.echo(f"{host} is blocked; {hidden} of its accounts hidden, their follows here ended")

    @federation.command("unblock-domain", help="Lift a server's block: it may talk to us again, its people show again.")
    @click.argument("host")
    def unblock_domain(host):
        try:
            host = domain_blocks.normalise(host)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="HOST") from error
        lifted = in_transaction(lambda db: domain_blocks.unblock(db, host))
        click.echo(f"{host} is not blocked any more" if lifted else f"{host} was not blocked")

    @federation.command("blocked-domains", help="List the servers blocked here.")
    def blocked():
        blocks = in_transaction(domain_blocks.blocked_domains)
        if not blocks:
            click.echo("no server is blocked")
        for block in blocks:
            click.echo(f"{block.domain:40} since {block.created:%Y-%m-%d %H:%M} UTC")
