"""federation: user.domain ('' here), each actor's key pair, remote actors, the instance key

Revision ID: b3f7e9a2c518
Revises: a8d2f5c1e934
Create Date: 2026-12-06 06:15:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from microblog.db import UTCDateTime


# revision identifiers, used by Alembic.
revision: str = 'b3f7e9a2c518'
down_revision: Union[str, None] = 'a8d2f5c1e934'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch: SQLite's batch copies the table and would lose the
    # expression index, which it cannot reflect.
    op.add_column('user', sa.Column('domain', sa.String(length=253), server_default='', nullable=False))
    op.drop_index('ix_user_nickname_lower', table_name='user')
    op.create_index('ix_user_nickname_lower_domain', 'user', [sa.text('lower(nickname)'), 'domain'], unique=True)
    op.create_table(
        'actor_key',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('public_key_pem', sa.Text(), nullable=False),
        sa.Column('private_key_pem', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_actor_key_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_actor_key')),
    )
    op.create_table(
        'instance_key',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('public_key_pem', sa.Text(), nullable=False),
        sa.Column('private_key_pem', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_key')),
    )
    op.create_table(
        'remote_actor',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.String(length=512), nullable=False),
        sa.Column('key_id', sa.String(length=512), nullable=False),
        sa.Column('inbox', sa.String(length=512), nullable=False),
        sa.Column('shared_inbox', sa.String(length=512), nullable=True),
        sa.Column('profile_url', sa.String(length=512), nullable=True),
        sa.Column('icon_url', sa.String(length=512), nullable=True),
        sa.Column('fetched_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_remote_actor_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_remote_actor')),
        sa.UniqueConstraint('actor_id', name=op.f('uq_remote_actor_actor_id')),
        sa.UniqueConstraint('key_id', name=op.f('uq_remote_actor_key_id')),
    )


def downgrade() -> None:
    # People from elsewhere go with their table, and their follows with them (SQLite's migrations
    # run without foreign keys: no cascade).
    user = sa.table('user', sa.column('id', sa.Integer()), sa.column('domain', sa.String()))
    followers = sa.table('followers', sa.column('follower_id', sa.Integer()), sa.column('followed_id', sa.Integer()))
    remote = sa.select(user.c.id).where(user.c.domain != '').scalar_subquery()
    op.execute(followers.delete().where(followers.c.follower_id.in_(remote) | followers.c.followed_id.in_(remote)))
    op.execute(user.delete().where(user.c.domain != ''))
    op.drop_table('remote_actor')
    op.drop_table('instance_key')
    op.drop_table('actor_key')
    op.drop_index('ix_user_nickname_lower_domain', table_name='user')
    op.create_index('ix_user_nickname_lower', 'user', [sa.text('lower(nickname)')], unique=True)
    op.drop_column('user', 'domain')
