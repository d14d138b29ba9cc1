"""the portal's failed-link counts, shared by its worker processes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_failed_link",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", "minute"),
    )
    with op.batch_alter_table("portal_failed_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_failed_link_minute"), ["minute"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("portal_failed_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_failed_link_minute"))
    op.drop_table("portal_failed_link")
