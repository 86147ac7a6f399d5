"""feeds remember a digest of their last parsed entries

`entries_hash`: the SHA-256 of the last parsed document's entries (ids, links, texts, dates).
A document whose bytes changed but whose entries did not (a build date, a timestamp, a rotating
ad in the channel) is then not stored and matched again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("entries_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("entries_hash")
