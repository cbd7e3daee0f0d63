"""jobs: job.dedup_key, a job's deduplication key while it is queued or running (unique; NULL once
it has finished, and NULLs never collide, so no partial index is needed: MariaDB has none)

Revision ID: c4a9e2f1b7d3
Revises: 5e4c0f7a1d2b
Create Date: 2026-12-06 03:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c4a9e2f1b7d3'
down_revision: Union[str, None] = '5e4c0f7a1d2b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedup_key', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_job_dedup_key'), ['dedup_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_dedup_key'))
        batch_op.drop_column('dedup_key')
