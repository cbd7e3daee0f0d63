"""avatars: user.picture and the picture table (pictures of people elsewhere, kept here)

Revision ID: e7c3a9b5d160
Revises: d5a1c7e3f902
Create Date: 2026-12-06 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.mysql import MEDIUMBLOB

from microblog.db import UTCDateTime


# revision identifiers, used by Alembic.
revision: str = 'e7c3a9b5d160'
down_revision: Union[str, None] = 'd5a1c7e3f902'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('user', sa.Column('picture', sa.String(length=32), nullable=True))
    op.create_table(
        'picture',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=32), nullable=False),
        sa.Column('content_type', sa.String(length=16), nullable=False),
        sa.Column('data', sa.LargeBinary().with_variant(MEDIUMBLOB(), 'mysql', 'mariadb'), nullable=False),
        sa.Column('saved_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_picture_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_picture')),
    )


def downgrade() -> None:
    op.drop_table('picture')
    op.drop_column('user', 'picture')  # not in batch: SQLite's copy of the table would lose its expression index
