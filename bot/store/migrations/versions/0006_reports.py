"""Learners' reports against a question or a knowledge entry, and an index for a learner's latest question.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # question | entry
        sa.Column("item_id", sa.String(160), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # open | resolved
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(128), nullable=True),
        sa.Column("resolution", sa.String(500), nullable=True),
    )
    op.create_index("ix_reports_item", "reports", ["kind", "item_id", "status"])
    op.create_index("ix_reports_tenant", "reports", ["tenant", "status", "created_at"])
    # a learner's latest question (typed letter answers, `report` without a button)
    op.create_index("ix_showings_user", "showings", ["tenant", "user_id", "shown_at"])


def downgrade() -> None:
    op.drop_index("ix_showings_user", table_name="showings")
    op.drop_index("ix_reports_tenant", table_name="reports")
    op.drop_index("ix_reports_item", table_name="reports")
    op.drop_table("reports")
