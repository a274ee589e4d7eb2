"""Acknowledged work (commands, button presses, DM messages) recorded before it is processed.

A row is written before the platform gets its acknowledgement and marked done once the answer
is delivered. A row whose lease ran out while still pending (its replica died or was stopped
before it could finish) is taken over and finished by another replica.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(200), nullable=True),
    )
    op.create_index("ix_work_items_due", "work_items", ["status", "lease_until"])
    op.create_index("ix_work_items_updated", "work_items", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_work_items_updated", table_name="work_items")
    op.drop_index("ix_work_items_due", table_name="work_items")
    op.drop_table("work_items")
