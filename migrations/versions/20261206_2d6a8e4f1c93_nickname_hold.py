"""accounts: nickname_hold, the nicknames accounts were renamed from, kept for them a while

Revision ID: 2d6a8e4f1c93
Revises: 9b1f3c2d7e45
Create Date: 2026-12-06 04:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '2d6a8e4f1c93'
down_revision: Union[str, None] = '9b1f3c2d7e45'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('nickname_hold',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_nickname_hold_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_nickname_hold'))
    )


def downgrade() -> None:
    op.drop_table('nickname_hold')
