"""story fingerprints keep their word and shingle counts

With them and the signature, most candidates are decided without recomputing their fingerprint
from the stored text. Rows written before have NULL counts and are recomputed as before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("story_fingerprints", sa.Column("words", sa.Integer(), nullable=True))
    op.add_column("story_fingerprints", sa.Column("shingles", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("story_fingerprints") as batch:
        batch.drop_column("shingles")
        batch.drop_column("words")
