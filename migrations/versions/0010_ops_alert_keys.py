"""operations alerts have a key: one alert per event, however many instances see it

`alerts.ops_key`: the event an operations alert is about (`stale:<feed id>:<silent since>`,
`recovered:<feed id>:<stale since>`, `refused:<channel>:<since>`), unique where not NULL (a unique
index: NULLs repeat freely on SQLite and PostgreSQL), so that two instances deciding the same
event record one alert. Story alerts, and the operations alerts written before, have none.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("ops_key", sa.Text, nullable=True))
    op.create_index(op.f("ix_alerts_ops_key"), "alerts", ["ops_key"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_ops_key"), table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("ops_key")
