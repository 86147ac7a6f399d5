"""feed claims have an owner: the instance that took them

`claimed_by`: who holds the feed's claim (`host/pid/uuid` of a running instance), set with
`claimed_until` and cleared with it. A poll's result is written only while the claim is still
its instance's, so a late writer, whose claim expired and was taken by another, is refused.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("claimed_by", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("claimed_by")
