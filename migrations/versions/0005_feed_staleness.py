"""operations alerts: when a feed last brought an item, since when it is stale; alerts that
are about a feed, not a story

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("last_item_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("feeds", sa.Column("stale_since", sa.DateTime(timezone=True), nullable=True))
    # An operations alert (a feed stale, then recovered) has no story and no item.
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("cluster_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("item_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE cluster_id IS NULL OR item_id IS NULL")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("item_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("cluster_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("stale_since")
        batch.drop_column("last_item_at")
