"""posts: post.body as unbounded text (the limit is the form's, POST_MAX_CHARS; remote posts are longer)

Revision ID: 4e8b1d6a3c27
Revises: 7c3e5a9b2f61
Create Date: 2026-12-06 05:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '4e8b1d6a3c27'
down_revision: Union[str, None] = '7c3e5a9b2f61'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # On SQLite a batch rebuilds the table: AUTOINCREMENT is kept (a deleted post's id is never
    # used again), which reflection cannot see.
    with op.batch_alter_table('post', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.alter_column('body', existing_type=sa.String(length=140), type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    # Longer posts are cut to what the old column holds.
    post = sa.table('post', sa.column('body', sa.Text()))
    op.execute(post.update().where(sa.func.length(post.c.body) > 140).values(body=sa.func.substr(post.c.body, 1, 140)))
    with op.batch_alter_table('post', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.alter_column('body', existing_type=sa.Text(), type_=sa.String(length=140), existing_nullable=False)
