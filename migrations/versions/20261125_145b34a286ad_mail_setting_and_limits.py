"""mail: the new-follower mail setting on user, and mail_limit (how often one kind of mail may go out)

Revision ID: 145b34a286ad
Revises: 3afc77a1dd50
Create Date: 2026-11-25 00:47:33.536628

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '145b34a286ad'
down_revision: Union[str, None] = '3afc77a1dd50'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('mail_limit',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('last_sent', sa.DateTime(timezone=True), nullable=False),
    sa.Column('held_back', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_mail_limit'))
    )
    with op.batch_alter_table('mail_limit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_limit_last_sent'), ['last_sent'], unique=False)

    # On by default, for the people already registered too (true on PostgreSQL, 1 on SQLite).
    # Plain ALTER TABLE, not a batch: SQLite's batch copies the table and would lose the
    # lower(nickname) index, which it cannot reflect.
    op.add_column('user', sa.Column('notify_new_followers', sa.Boolean(), server_default=sa.true(),
                                    nullable=False))


def downgrade() -> None:
    op.drop_column('user', 'notify_new_followers')  # SQLite 3.35 or newer

    with op.batch_alter_table('mail_limit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_limit_last_sent'))

    op.drop_table('mail_limit')
