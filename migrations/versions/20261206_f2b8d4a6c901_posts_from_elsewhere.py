"""posts from elsewhere: post.ap_id (unique), html, url and visibility; long bodies on MariaDB

Revision ID: f2b8d4a6c901
Revises: f3b8d2a6c914
Create Date: 2026-12-07 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.mysql import MEDIUMTEXT


# revision identifiers, used by Alembic.
revision: str = 'f2b8d4a6c901'
down_revision: Union[str, None] = 'f3b8d2a6c914'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LONG_TEXT = sa.Text().with_variant(MEDIUMTEXT(), 'mysql', 'mariadb')


def upgrade() -> None:
    # Plain ALTER TABLE and CREATE INDEX, not a batch: nothing here needs SQLite's copy of the
    # table (which keeps AUTOINCREMENT only if told), and PostgreSQL's full-text index stays as it is.
    op.add_column('post', sa.Column('ap_id', sa.String(length=512), nullable=True))
    op.add_column('post', sa.Column('html', LONG_TEXT, nullable=True))
    op.add_column('post', sa.Column('url', sa.String(length=512), nullable=True))
    op.add_column('post', sa.Column('visibility', sa.String(length=16), server_default='public', nullable=False))
    op.create_index('ix_post_ap_id', 'post', ['ap_id'], unique=True)
    if op.get_bind().dialect.name == 'mysql':  # TEXT holds 64 KB there; a post from elsewhere may be longer
        op.alter_column('post', 'body', existing_type=sa.Text(), type_=MEDIUMTEXT(), existing_nullable=False)


def downgrade() -> None:
    # Posts from elsewhere go with the columns that tell them apart.
    post = sa.table('post', sa.column('ap_id', sa.String()))
    op.execute(post.delete().where(post.c.ap_id.isnot(None)))
    if op.get_bind().dialect.name == 'mysql':
        op.alter_column('post', 'body', existing_type=MEDIUMTEXT(), type_=sa.Text(), existing_nullable=False)
    op.drop_index('ix_post_ap_id', table_name='post')
    op.drop_column('post', 'visibility')
    op.drop_column('post', 'url')
    op.drop_column('post', 'html')
    op.drop_column('post', 'ap_id')
