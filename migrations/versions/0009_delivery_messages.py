"""deliveries can be held for a digest, and each send is a message row

`deliveries.hold`: why a delivery waits (`digest`, `quiet_hours`, `rate_limit`); when its
`next_attempt_at` comes it goes out in one digest with the others held for its channel. Held rows
are rows, so a restart loses none of them.
`channel_refusals`: the channels refusing alerts for good until a send works again (one
operations alert each, across restarts).
`messages`: one row a send to a channel (a story, a digest, the operations alerts of a dispatch),
`deliveries.message_id` the last one that carried the delivery. The sends of the last minutes are
what a channel's rate limit counts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("alerts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(op.f("ix_messages_channel_created_at"), "messages", ["channel", "created_at"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("hold", sa.String(16), nullable=True))
        batch.add_column(sa.Column("message_id", sa.Integer, nullable=True))
    op.create_index(op.f("ix_deliveries_message_id"), "deliveries", ["message_id"])
    op.create_table(
        "channel_refusals",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_refusals")),
        sa.UniqueConstraint("channel", name=op.f("uq_channel_refusals_channel")),
    )


def downgrade() -> None:
    op.drop_table("channel_refusals")
    op.drop_index(op.f("ix_deliveries_message_id"), table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("message_id")
        batch.drop_column("hold")
    op.drop_index(op.f("ix_messages_channel_created_at"), table_name="messages")
    op.drop_table("messages")
