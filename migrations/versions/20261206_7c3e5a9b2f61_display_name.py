"""accounts: user.display_name, an optional name shown beside the nickname

Revision ID: 7c3e5a9b2f61
Revises: 2d6a8e4f1c93
Create Date: 2026-12-06 04:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7c3e5a9b2f61'
down_revision: Union[str, None] = '2d6a8e4f1c93'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch: SQLite's batch copies the table and would lose the
    # lower(nickname) index, which it cannot reflect.
    op.add_column('user', sa.Column('display_name', sa.String(length=50), nullable=True))


def downgrade() -> None:
    op.drop_column('user', 'display_name')  # SQLite 3.35 or newer
