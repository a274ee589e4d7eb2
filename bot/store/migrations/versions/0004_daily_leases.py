"""Daily posts and reveals carry leases, and remember attempts whose outcome is not known yet.

A claim that is not finished before its lease runs out (the replica died, or was stopped) is
taken over by another pass. `attempted_at` / `reveal_attempted_at` say a post may have reached
the platform, so the next holder checks before it posts again; `outcome` records an
at-most-once give-up on platforms where that cannot be checked.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = (
    ("lease_until", sa.DateTime(timezone=True)),
    ("lease_token", sa.String(32)),
    ("attempted_at", sa.DateTime(timezone=True)),
    ("outcome", sa.String(16)),
    ("reveal_lease_until", sa.DateTime(timezone=True)),
    ("reveal_token", sa.String(32)),
    ("reveal_attempted_at", sa.DateTime(timezone=True)),
    ("reveal_message_id", sa.String(200)),
)


def upgrade() -> None:
    with op.batch_alter_table("daily_posts") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_index("ix_daily_posts_open_reveals", "daily_posts", ["revealed_at", "reveal_at"])


def downgrade() -> None:
    op.drop_index("ix_daily_posts_open_reveals", table_name="daily_posts")
    with op.batch_alter_table("daily_posts") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
