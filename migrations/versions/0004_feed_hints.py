"""feeds remember where they moved and the refresh time they announce

`fetch_url`: where a feed is fetched after a permanent redirect (301, 308), until the
configuration names the new address. `ttl_seconds`: the RSS <ttl> of the last parsed document,
which polls answered 304 (nothing parsed) still honour.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("fetch_url", sa.Text(), nullable=True))
    op.add_column("feeds", sa.Column("ttl_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("ttl_seconds")
        batch.drop_column("fetch_url")
