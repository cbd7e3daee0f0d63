"""accounts: the local part of a user (e-mail, password, settings) in local_user, apart from the
public identity that stays in user (nickname, about me; later a domain, keys): people from other
servers will be users without a local part

Revision ID: 9b1f3c2d7e45
Revises: c4a9e2f1b7d3
Create Date: 2026-12-06 04:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9b1f3c2d7e45'
down_revision: Union[str, None] = 'c4a9e2f1b7d3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LOCAL = ['email', 'password_hash', 'last_seen', 'locale', 'timezone', 'notify_new_followers']


def _columns():
    return [
        sa.Column('email', sa.String(length=120), nullable=False),
        sa.Column('password_hash', sa.String(length=256), nullable=True),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locale', sa.String(length=16), nullable=True),
        sa.Column('timezone', sa.String(length=64), nullable=True),
        sa.Column('notify_new_followers', sa.Boolean(), server_default=sa.true(), nullable=False),
    ]


def _tables():
    return (sa.table('user', sa.column('id'), *[sa.column(name) for name in LOCAL]),
            sa.table('local_user', sa.column('user_id'), *[sa.column(name) for name in LOCAL]))


def _nickname_index() -> None:
    # SQLite's batch copy of `user` cannot reflect this expression index: made again after it.
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('ix_user_nickname_lower', 'user', [sa.text('lower(nickname)')], unique=True)


def upgrade() -> None:
    op.create_table('local_user',
    sa.Column('user_id', sa.Integer(), nullable=False),
    *_columns(),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_local_user_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_local_user')),
    sa.UniqueConstraint('email', name=op.f('uq_local_user_email'))
    )
    user, local = _tables()  # sa.table: each database quotes `user` its own way
    op.execute(sa.insert(local).from_select(['user_id', *LOCAL], sa.select(user.c.id, *[user.c[n] for n in LOCAL])))
    with op.batch_alter_table('user', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_email'), type_='unique')
        for name in LOCAL:
            batch_op.drop_column(name)
    _nickname_index()


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        for column in _columns():
            column.nullable = True  # filled below, then required
            batch_op.add_column(column)
    user, local = _tables()
    op.execute(sa.update(user).values({name: sa.select(local.c[name]).where(local.c.user_id == user.c.id)
                                      .scalar_subquery() for name in LOCAL}))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.String(length=120), nullable=False)
        batch_op.alter_column('notify_new_followers', existing_type=sa.Boolean(), nullable=False,
                              existing_server_default=sa.true())
        batch_op.create_unique_constraint(batch_op.f('uq_user_email'), ['email'])
    _nickname_index()
    op.drop_table('local_user')
