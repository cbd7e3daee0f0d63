"""`quart federation block-domain HOST | unblock-domain HOST | blocked-domains`: the servers the
operator blocks for everyone (domain_blocks.py says what a block does)."""
import asyncio

import click
from quart import Quart

from .. import db as database
from . import domain_blocks


def _host(_context, _parameter, value: str) -> str:
    """A HOST argument as blocks name it (domain_blocks.normalise), else click's usage error."""
    try:
        return domain_blocks.normalise(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


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
    @click.argument("host", callback=_host)
    def block_domain(host):
        hidden = in_transaction(lambda db: domain_blocks.block(db, host))
        click.echo(f"{host} is blocked; {hidden} of its accounts hidden, their follows here ended")

    @federation.command("unblock-domain", help="Lift a server's block: it may talk to us again, its people show again.")
    @click.argument("host", callback=_host)
    def unblock_domain(host):
        lifted = in_transaction(lambda db: domain_blocks.unblock(db, host))
        click.echo(f"{host} is not blocked any more" if lifted else f"{host} was not blocked")

    @federation.command("blocked-domains", help="List the servers blocked here.")
    def blocked():
        blocks = in_transaction(domain_blocks.blocked_domains)
        if not blocks:
            click.echo("no server is blocked")
        for block in blocks:
            click.echo(f"{block.domain:40} since {block.created:%Y-%m-%d %H:%M} UTC")
