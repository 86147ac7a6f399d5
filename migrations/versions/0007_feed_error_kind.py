"""feeds keep a failure's kind in a column of its own

`status` held `error:<kind>` for a failed poll: a word parsed back apart to read it. It now
holds the status alone (`new`, `ok`, `not_modified`, `unchanged`, `dead`, `error`) and
`error_kind` the kind of an error (`timeout`, `http_status`, ...).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("error_kind", sa.String(32), nullable=True))
    op.execute(
        "UPDATE feeds SET error_kind = substr(status, 7), status = 'error'"
        " WHERE status LIKE 'error:%'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE feeds SET status = 'error:' || coalesce(error_kind, 'unknown')"
        " WHERE status = 'error'"
    )
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("error_kind")
