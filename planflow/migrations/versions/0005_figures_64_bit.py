"""Figures in 64-bit columns and a catalogue maximum per indicator

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = ("male", "female", "total", "numerator", "denominator")


def upgrade() -> None:
    with op.batch_alter_table("indicator_value", schema=None) as batch_op:
        for name in FIGURES:
            batch_op.alter_column(
                name, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=True
            )
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("maximum", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_column("maximum")
    with op.batch_alter_table("indicator_value", schema=None) as batch_op:
        for name in FIGURES:
            batch_op.alter_column(
                name, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=True
            )
