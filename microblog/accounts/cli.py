"""`quart users list` and `quart users set-password NICKNAME`: for the site's operator, who may
have no working mail to send a reset link through."""
import asyncio

import click
from quart import Quart
from sqlalchemy import select

from .. import db as database
from .forms import PASSWORD_MIN
from .models import LocalUser, User
from .sessions import LoginSession


def register_cli(app: Quart) -> None:
    users = click.Group("users", help="Accounts on this site.")
    app.cli.add_command(users)

    async def in_session(work):
        async with database.command_context(app):
            async with database.new_session() as db:
                return await work(db)

    @users.command("list", help="Every account here: nickname, e-mail, last seen.")
    def list_users():
        async def rows(db):
            return (await db.execute(select(User.nickname, LocalUser.email, LocalUser.last_seen)
                                     .join(LocalUser, LocalUser.user_id == User.id).order_by(User.id))).all()
        found = asyncio.run(in_session(rows))
        width = max([len(nickname) for nickname, *_ in found] + [8])
        click.echo(f"{'nickname':<{width}}  {'e-mail':<30}  last seen (UTC)")
        for nickname, email, last_seen in found:
            seen = last_seen.strftime("%Y-%m-%d %H:%M") if last_seen else "never"
            click.echo(f"{nickname:<{width}}  {email:<30}  {seen}")
        click.echo(f"{len(found)} account{'s' if len(found) != 1 else ''}")

    @users.command("set-password", help="Give an account a new password (asked for, never on the command line); "
                                         "its sessions end.")
    @click.argument("nickname")
    @click.password_option(prompt="New password", confirmation_prompt="Repeat it")
    def set_password(nickname: str, password: str):
        if len(password) < PASSWORD_MIN:
            raise click.ClickException(f"a password has at least {PASSWORD_MIN} characters")

        async def change(db):
            user = await User.by_nickname(db, nickname)
            if user is None or user.local is None:
                return None
            await LoginSession.end_others(db, user, keep=None)
            await user.change_password(password)
            await database.commit(db)
            return user.nickname
        changed = asyncio.run(in_session(change))
        if changed is None:
            raise click.ClickException(f"no account here is called {nickname!r}")
        click.echo(f"{changed}'s password is changed; every session of theirs has ended.")
