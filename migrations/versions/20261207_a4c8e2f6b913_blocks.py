"""blocks: the servers the operator blocks (domain_block), the accounts a person blocks
(account_block), the servers a person hides from themselves (hidden_domain); user.suspended (their
server is blocked here) and local_user.has_blocks (their lists carry blocks' filter)

Revision ID: a4c8e2f6b913
Revises: f2b8d4a6c901
Create Date: 2026-12-07 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from microblog.db import UTCDateTime


# revision identifiers, used by Alembic.
revision: str = 'a4c8e2f6b913'
down_revision: Union[str, None] = 'f2b8d4a6c901'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'domain_block',
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('created', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('domain', name=op.f('pk_domain_block')),
    )
    op.create_table(
        'account_block',
        sa.Column('blocker_id', sa.Integer(), nullable=False),
        sa.Column('blocked_id', sa.Integer(), nullable=False),
        sa.Column('timestamp', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['blocker_id'], ['user.id'], name=op.f('fk_account_block_blocker_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['blocked_id'], ['user.id'], name=op.f('fk_account_block_blocked_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('blocker_id', 'blocked_id', name=op.f('pk_account_block')),
    )
    op.create_index('ix_account_block_blocked_id_blocker_id', 'account_block', ['blocked_id', 'blocker_id'])
    op.create_table(
        'hidden_domain',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('timestamp', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_hidden_domain_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'domain', name=op.f('pk_hidden_domain')),
    )
    # Plain ALTER TABLE, not a batch: SQLite's batch copies the table and would lose the
    # expression index on lower(nickname).
    op.add_column('user', sa.Column('suspended', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('local_user', sa.Column('has_blocks', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column('local_user', 'has_blocks')  # SQLite 3.35 or newer
    op.drop_column('user', 'suspended')
    op.drop_table('hidden_domain')
    op.drop_table('account_block')  # with its index (MariaDB keeps an index a foreign key needs)
    op.drop_table('domain_block')
