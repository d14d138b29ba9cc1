"""portal access links and unit documents; audit rows name the link of a portal change

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 05:28:47.613530
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("access_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_link_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "unit_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["access_link.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["report_request.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("unit_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unit_document_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_unit_document_unit_id"), ["unit_id"], unique=False)

    with op.batch_alter_table("transition_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transition_log", schema=None) as batch_op:
        batch_op.drop_column("link_id")

    with op.batch_alter_table("unit_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_document_unit_id"))
        batch_op.drop_index(batch_op.f("ix_unit_document_request_id"))

    op.drop_table("unit_document")
    with op.batch_alter_table("access_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_link_unit_id"))

    op.drop_table("access_link")
