"""story index: MinHash signatures and LSH/lead keys of recent items

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_fingerprints",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_story_fingerprints_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_story_fingerprints")),
    )
    op.create_index("ix_story_fingerprints_first_seen_at", "story_fingerprints", ["first_seen_at"])
    op.create_table(
        "story_keys",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "item_id", name=op.f("pk_story_keys")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_story_keys_item_id", "story_keys", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_story_keys_item_id", table_name="story_keys")
    op.drop_table("story_keys")
    op.drop_index("ix_story_fingerprints_first_seen_at", table_name="story_fingerprints")
    op.drop_table("story_fingerprints")
