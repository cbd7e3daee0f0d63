"""federation: remote_host, how delivering to each server has gone (dead ones are skipped)

Revision ID: d5a1c7e3f902
Revises: b3f7e9a2c518
Create Date: 2026-12-06 06:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from microblog.db import UTCDateTime


# revision identifiers, used by Alembic.
revision: str = 'd5a1c7e3f902'
down_revision: Union[str, None] = 'b3f7e9a2c518'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'remote_host',
        sa.Column('host', sa.String(length=253), nullable=False),
        sa.Column('failure_days', sa.Integer(), nullable=False),
        sa.Column('last_failure', UTCDateTime(), nullable=True),
        sa.Column('unavailable', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('host', name=op.f('pk_remote_host')),
    )


def downgrade() -> None:
    op.drop_table('remote_host')
