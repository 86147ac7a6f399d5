"""feeds remember until when a poller claimed them

`claimed_until`: set with the claim (the poll pass that took the feed), cleared when the poll's
outcome is recorded. A daemon that starts on SQLite, which one daemon writes, knows from it which
feeds a killed process took and never polled, and polls them at once instead of after the lease.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("claimed_until")
