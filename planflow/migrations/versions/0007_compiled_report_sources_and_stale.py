"""What each compiled report counted (compiled_source); a compiled report can be stale

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (no table copy: indicator_value and others reference report)
    op.add_column(
        "report", sa.Column("stale", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("report", sa.Column("stale_since", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "compiled_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compiled_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["compiled_id"], ["report.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["report_request.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["report.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("compiled_id", "source_id", name="uq_compiled_source"),
    )
    with op.batch_alter_table("compiled_source", schema=None) as batch_op:
        batch_op.create_index("ix_compiled_source_request", ["request_id"], unique=False)
        batch_op.create_index("ix_compiled_source_source", ["source_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("compiled_source", schema=None) as batch_op:
        batch_op.drop_index("ix_compiled_source_source")
        batch_op.drop_index("ix_compiled_source_request")
    op.drop_table("compiled_source")
    op.drop_column("report", "stale_since")
    op.drop_column("report", "stale")
