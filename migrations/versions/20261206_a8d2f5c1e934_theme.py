"""themes: local_user.theme (light, dark; NULL is automatic, as the browser prefers)

Revision ID: a8d2f5c1e934
Revises: 4e8b1d6a3c27
Create Date: 2026-12-06 06:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'a8d2f5c1e934'
down_revision: Union[str, None] = '4e8b1d6a3c27'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('local_user', sa.Column('theme', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('local_user', schema=None) as batch_op:
        batch_op.drop_column('theme')
