"""following elsewhere: follow requests, the Follows sent, failed look-ups, what a remote
actor's server reports of it

Revision ID: f3b8d2a6c914
Revises: e7c3a9b5d160
Create Date: 2026-12-06 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from microblog.db import UTCDateTime


# revision identifiers, used by Alembic.
revision: str = 'f3b8d2a6c914'
down_revision: Union[str, None] = 'e7c3a9b5d160'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'follow_request',
        sa.Column('follower_id', sa.Integer(), nullable=False),
        sa.Column('followed_id', sa.Integer(), nullable=False),
        sa.Column('timestamp', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['follower_id'], ['user.id'], name=op.f('fk_follow_request_follower_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['followed_id'], ['user.id'], name=op.f('fk_follow_request_followed_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('follower_id', 'followed_id', name=op.f('pk_follow_request')),
    )
    op.create_table(
        'sent_follow',
        sa.Column('follower_id', sa.Integer(), nullable=False),
        sa.Column('followed_id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(['follower_id'], ['user.id'], name=op.f('fk_sent_follow_follower_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['followed_id'], ['user.id'], name=op.f('fk_sent_follow_followed_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('follower_id', 'followed_id', name=op.f('pk_sent_follow')),
        sa.UniqueConstraint('activity_id', name=op.f('uq_sent_follow_activity_id')),
    )
    op.create_table(
        'failed_lookup',
        sa.Column('query', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('until', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('query', name=op.f('pk_failed_lookup')),
    )
    op.add_column('remote_actor', sa.Column('followers_count', sa.Integer(), nullable=True))
    op.add_column('remote_actor', sa.Column('following_count', sa.Integer(), nullable=True))
    op.add_column('remote_actor', sa.Column('summary', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('remote_actor', schema=None) as batch_op:
        batch_op.drop_column('summary')
        batch_op.drop_column('following_count')
        batch_op.drop_column('followers_count')
    op.drop_table('failed_lookup')
    op.drop_table('sent_follow')
    op.drop_table('follow_request')
