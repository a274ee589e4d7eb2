"""Retention and removal: answer totals kept after pruning, and workspaces that removed the app.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_totals",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("module", sa.String(100), primary_key=True),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tenant_removals",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("tenant_removals")
    op.drop_table("answer_totals")
