"""The database schema as SQLAlchemy Core tables (migrations in bot/store/migrations)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("last_question", String(128), nullable=True),  # never ask it twice in a row
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
)

# One row per question shown to a learner; answering claims the row exactly once.
showings = Table(
    "showings", metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("question_id", String(128), nullable=False),
    Column("mode", String(16), nullable=False),  # quiz | review | exam
    Column("scope", String(100), nullable=False, default=""),  # what "Next question" continues
    Column("option_order", JSON, nullable=False),  # shuffled option indexes as shown
    Column("picked", JSON, nullable=False),  # original option indexes picked so far
    Column("exam_id", String(32), nullable=True, index=True),
    Column("shown_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Index("ix_showings_user", "tenant", "user_id", "shown_at"),  # the learner's latest question
)

answers = Table(
    "answers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("showing_id", String(32), nullable=False, unique=True),
    Column("tenant", String(64), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("question_id", String(128), nullable=False),
    Column("module", String(100), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("chosen", JSON, nullable=False),  # original option indexes chosen
    Column("correct", Boolean, nullable=False),
    Column("elapsed_ms", Integer, nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=False, index=True),
)

cards = Table(
    "cards", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("item_id", String(160), primary_key=True),  # question id, or "scenario:<id>"
    Column("module", String(100), nullable=False),
    Column("card", JSON, nullable=False),  # fsrs.Card.to_dict()
    Column("due", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

exams = Table(
    "exams", metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("scope", String(100), nullable=False, default=""),
    Column("question_ids", JSON, nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),  # open | finished | abandoned
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("pass_mark", Integer, nullable=False),
)

# Role-play sessions (one open per learner) and their transcript and grading state.
roleplays = Table(
    "roleplays", metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("scenario_id", String(128), nullable=False),
    Column("topic", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # open | finished | expired | abandoned
    Column("state", JSON, nullable=False),
    Column("score", Integer, nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=0),
)

# Inbound deliveries already handled (Slack event ids, message ts, Teams activity ids).
processed_events = Table(
    "processed_events", metadata,
    Column("key", String(200), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)

# Where to reach a conversation later (our ConversationRef): saved on every inbound message.
conversation_refs = Table(
    "conversation_refs", metadata,
    Column("platform", String(16), primary_key=True),
    Column("tenant", String(64), primary_key=True),
    Column("channel", String(200), primary_key=True),
    Column("reference", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

daily_subscriptions = Table(
    "daily_subscriptions", metadata,
    Column("id", String(32), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("post_time", String(5), nullable=False),  # HH:MM local
    Column("timezone", String(64), nullable=False),
    Column("days", String(16), nullable=False),  # weekdays | daily
    Column("reveal_minutes", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("platform", "tenant", "channel", name="uq_daily_channel"),
)

# One post per subscription and local day: the unique key is the claim that makes it exactly once.
# A claim carries a lease; an expired one is taken over. `attempted_at` means a post may have
# reached the platform (checked before posting again); likewise for the reveal.
daily_posts = Table(
    "daily_posts", metadata,
    Column("id", String(32), primary_key=True),
    Column("subscription_id", String(32), nullable=False),
    Column("local_date", String(10), nullable=False),  # YYYY-MM-DD in the channel's timezone
    Column("question_id", String(128), nullable=False),
    Column("module", String(100), nullable=False),
    Column("option_order", JSON, nullable=False),
    Column("message_id", String(200), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=True),
    Column("reveal_at", DateTime(timezone=True), nullable=True),
    Column("revealed_at", DateTime(timezone=True), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("lease_token", String(32), nullable=True),
    Column("attempted_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(16), nullable=True),  # "unconfirmed": at-most-once gave up
    Column("reveal_lease_until", DateTime(timezone=True), nullable=True),
    Column("reveal_token", String(32), nullable=True),
    Column("reveal_attempted_at", DateTime(timezone=True), nullable=True),
    Column("reveal_message_id", String(200), nullable=True),
    UniqueConstraint("subscription_id", "local_date", name="uq_daily_post_day"),
    Index("ix_daily_posts_open_reveals", "revealed_at", "reveal_at"),
)

daily_answers = Table(
    "daily_answers", metadata,
    Column("post_id", String(32), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("user_name", String(200), nullable=False),
    Column("chosen", Integer, nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
)

# Acknowledged work, written before the acknowledgement and finished by whoever holds its lease:
# a replica that dies or is stopped mid-command leaves it to another (see bot/store/workstore.py).
work_items = Table(
    "work_items", metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),  # e.g. slack.command, slack.action
    Column("tenant", String(64), nullable=False),
    Column("payload", JSON, nullable=False),  # what the platform sent: enough to do it again
    Column("status", String(16), nullable=False),  # pending | done | failed
    Column("attempts", Integer, nullable=False),
    Column("owner", String(64), nullable=False),  # host:pid of the replica working on it
    Column("lease_until", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("error", String(200), nullable=True),
    Index("ix_work_items_due", "status", "lease_until"),
    Index("ix_work_items_updated", "updated_at"),
)

# A learner's report against a question or an entry ("the answer is wrong", "outdated"); admins
# list and resolve them, and the daily question skips a question while it has open reports.
reports = Table(
    "reports", metadata,
    Column("id", String(32), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # question | entry
    Column("item_id", String(160), nullable=False),
    Column("text", String(1000), nullable=False),
    Column("status", String(16), nullable=False),  # open | resolved
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolved_by", String(128), nullable=True),
    Column("resolution", String(500), nullable=True),
    Index("ix_reports_item", "kind", "item_id", "status"),
    Index("ix_reports_tenant", "tenant", "status", "created_at"),
)

# Answers folded away by retention (AWS_QUIZ_RETENTION_DAYS), per learner and module: stats keep
# their totals after the answer history itself is pruned (see bot/store/retention.py).
answer_totals = Table(
    "answer_totals", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("module", String(100), primary_key=True),
    Column("answered", Integer, nullable=False),
    Column("correct", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A workspace or tenant that removed the app: its user data is deleted once the retention period
# has passed (30 days when retention is off), unless the app is used there again first.
tenant_removals = Table(
    "tenant_removals", metadata,
    Column("platform", String(16), primary_key=True),
    Column("tenant", String(64), primary_key=True),
    Column("removed_at", DateTime(timezone=True), nullable=False),
    Column("purged_at", DateTime(timezone=True), nullable=True),
)
