"""translate: post_translation (each post's translations, per language) and translation_allowance
(each reader's translations per hour)

Revision ID: b7e3c91d5a20
Revises: 145b34a286ad
Create Date: 2026-11-25 02:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b7e3c91d5a20'
down_revision: Union[str, None] = '145b34a286ad'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('post_translation',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_translation_post_id_post'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'language', name=op.f('pk_post_translation'))
    )
    op.create_table('translation_allowance',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_translation_allowance_user_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_translation_allowance'))
    )


def downgrade() -> None:
    op.drop_table('translation_allowance')
    op.drop_table('post_translation')
