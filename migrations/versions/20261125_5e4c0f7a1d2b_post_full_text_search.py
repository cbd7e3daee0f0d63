"""search: on PostgreSQL, a GIN index on each post's words in its language's configuration

Revision ID: 5e4c0f7a1d2b
Revises: b7e3c91d5a20
Create Date: 2026-11-25 02:50:00

SQLite has no such index: Whoosh's files in the instance folder are its search index.
"""
from typing import Sequence, Union

from alembic import op


revision: str = '5e4c0f7a1d2b'
down_revision: Union[str, None] = 'b7e3c91d5a20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CONFIGURATIONS = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    whens = " ".join(f"WHEN (language = '{code}') THEN '{name}'::regconfig" for code, name in CONFIGURATIONS.items())
    op.execute(f"CREATE INDEX ix_post_body_tsvector ON post USING gin "
               f"(to_tsvector(CASE {whens} ELSE 'simple'::regconfig END, body))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_post_body_tsvector")
