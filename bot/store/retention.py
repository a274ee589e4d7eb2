"""Retention: prune old answer history (keeping per-module totals) and removed workspaces' data.

`prune(db, settings, now)` is the one entry point: the server's hourly housekeeping and
`aws-quiz db prune` call it. With `AWS_QUIZ_RETENTION_DAYS` = N (30..3650) it deletes answers,
shown questions, daily answers, and finished exams and role-plays older than N days; every
pruned answer is first added to `answer_totals` (per learner and module), in the same
transaction as its deletion, so stats keep their totals (`archived_totals`). With 0 (the
default) nothing of the history is pruned.

A workspace that removes the app (`record_removal`, called by the Slack adapter on
`app_uninstalled`/`tokens_revoked`) has all of its data deleted once the retention period has
passed since (30 days when retention is 0), unless the app was used or installed there again
meanwhile (`cancel_removal`, or any activity seen after the removal).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, inspect, or_, select, update

from bot.config import Settings
from bot.store.database import Database, as_utc
from bot.store.privacystore import PrivacyStore, slack_installations
from bot.store.tables import (
    answer_totals,
    answers,
    conversation_refs,
    daily_answers,
    exams,
    roleplays,
    showings,
    tenant_removals,
    users,
)

REMOVAL_GRACE_DAYS = 30  # how long a removed workspace's data stays when retention is 0
BATCH = 2000  # answers folded per transaction


def removal_grace(settings: Settings) -> timedelta:
    """How long after a workspace removed the app its data is kept."""
    return timedelta(days=settings.retention_days or REMOVAL_GRACE_DAYS)


async def prune(db: Database, settings: Settings, now: datetime) -> dict[str, int]:
    """One retention pass: rows deleted per kind (kinds with nothing to do are left out)."""
    out: dict[str, int] = {}
    if settings.retention_days:
        cutoff = now - timedelta(days=settings.retention_days)
        out["answers"] = await _fold_answers(db, cutoff, now)
        open_exams = select(exams.c.id).where(exams.c.status == "open")
        out["showings"] = await db.execute(delete(showings).where(
            showings.c.shown_at < cutoff,
            or_(showings.c.answered_at.is_(None), showings.c.answered_at < cutoff),
            or_(showings.c.exam_id.is_(None), showings.c.exam_id.not_in(open_exams))))
        out["daily_answers"] = await db.execute(delete(daily_answers).where(
            daily_answers.c.answered_at < cutoff))
        out["exams"] = await db.execute(delete(exams).where(
            exams.c.status != "open",
            func.coalesce(exams.c.finished_at, exams.c.started_at) < cutoff))
        out["roleplays"] = await db.execute(delete(roleplays).where(
            roleplays.c.status != "open", roleplays.c.updated_at < cutoff))
    out.update(await _removed_workspaces(db, settings, now))
    return {kind: n for kind, n in out.items() if n}


async def _fold_answers(db: Database, cutoff: datetime, now: datetime) -> int:
    """Delete answers older than `cutoff` in batches, adding each batch to answer_totals in the
    same transaction. The rows come back from the DELETE itself, so two replicas pruning at
    once can never count an answer twice."""
    pruned = 0
    while True:
        batch = (select(answers.c.id).where(answers.c.answered_at < cutoff)
                 .order_by(answers.c.id).limit(BATCH))
        async with db.engine.begin() as conn:
            rows = (await conn.execute(
                delete(answers).where(answers.c.id.in_(batch))
                .returning(answers.c.tenant, answers.c.user_id, answers.c.module,
                           answers.c.correct))).all()
            if not rows:
                return pruned
            totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
            for row in rows:
                counts = totals[(row.tenant, row.user_id, row.module)]
                counts[0] += 1
                counts[1] += 1 if row.correct else 0
            for (tenant, user, module), (answered, correct) in totals.items():
                stmt = db.upsert(answer_totals).values(tenant=tenant, user_id=user,
                                                       module=module, answered=answered,
                                                       correct=correct, updated_at=now)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["tenant", "user_id", "module"],
                    set_={"answered": answer_totals.c.answered + stmt.excluded.answered,
                          "correct": answer_totals.c.correct + stmt.excluded.correct,
                          "updated_at": now})
                await conn.execute(stmt)
        pruned += len(rows)


async def archived_totals(db: Database, tenant: str, user: str) -> dict[str, tuple[int, int]]:
    """module -> (correct, answered) of a learner's answers pruned by retention: add them to
    what `answers` still holds for lifetime totals."""
    stmt = select(answer_totals.c.module, answer_totals.c.correct, answer_totals.c.answered).where(
        answer_totals.c.tenant == tenant, answer_totals.c.user_id == user)
    return {r.module: (int(r.correct), int(r.answered)) for r in await db.rows(stmt)}


async def archived_totals_by_user(db: Database, tenant: str) -> dict[str, tuple[int, int]]:
    """user id -> (correct, answered) pruned by retention, every module together (for an
    all-time leaderboard or a team view)."""
    stmt = (select(answer_totals.c.user_id, func.sum(answer_totals.c.correct).label("correct"),
                   func.sum(answer_totals.c.answered).label("answered"))
            .where(answer_totals.c.tenant == tenant).group_by(answer_totals.c.user_id))
    return {r.user_id: (int(r.correct or 0), int(r.answered or 0))
            for r in await db.rows(stmt)}


# -- workspaces that removed the app ----------------------------------------------------------

async def record_removal(db: Database, platform: str, tenant: str, now: datetime) -> None:
    """The app was removed from a workspace: its data goes once the grace period has passed.
    A removal already pending keeps its first time (Slack sends two events for one uninstall)."""
    pending = await db.first(select(tenant_removals.c.removed_at).where(
        tenant_removals.c.platform == platform, tenant_removals.c.tenant == tenant,
        tenant_removals.c.purged_at.is_(None)))
    if pending is not None:
        return
    stmt = db.upsert(tenant_removals).values(platform=platform, tenant=tenant, removed_at=now,
                                             purged_at=None)
    stmt = stmt.on_conflict_do_update(index_elements=["platform", "tenant"],
                                      set_={"removed_at": now, "purged_at": None})
    await db.execute(stmt)


async def cancel_removal(db: Database, platform: str, tenant: str) -> bool:
    """The app was installed again: keep the workspace's data. True when a removal was pending."""
    return await db.execute(delete(tenant_removals).where(
        tenant_removals.c.platform == platform, tenant_removals.c.tenant == tenant,
        tenant_removals.c.purged_at.is_(None))) > 0


async def pending_removals(db: Database) -> list[tuple[str, str, datetime]]:
    """(platform, tenant, removed at) of every removal whose data is not deleted yet."""
    rows = await db.rows(select(tenant_removals).where(tenant_removals.c.purged_at.is_(None)))
    return [(r.platform, r.tenant, as_utc(r.removed_at) or r.removed_at) for r in rows]


async def _used_since(db: Database, tenant: str, since: datetime) -> bool:
    """True when the workspace was active or installed again after `since`."""
    seen = await db.first(select(func.max(users.c.last_seen_at)).where(users.c.tenant == tenant))
    ref = await db.first(select(func.max(conversation_refs.c.updated_at))
                         .where(conversation_refs.c.tenant == tenant))
    latest: list[Any] = [seen[0] if seen else None, ref[0] if ref else None]
    if await _has_table(db, slack_installations.name):
        installed = await db.first(select(func.max(slack_installations.c.installed_at))
                                   .where(slack_installations.c.team_id == tenant))
        latest.append(installed[0] if installed else None)
    return any(value is not None and _when(value) > since for value in latest)


def _when(value: Any) -> datetime:
    """A max() over timestamps: SQLite gives text back, PostgreSQL a datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value) or value


async def _has_table(db: Database, name: str) -> bool:
    async with db.engine.connect() as conn:
        return bool(await conn.run_sync(lambda sync: inspect(sync).has_table(name)))


async def _removed_workspaces(db: Database, settings: Settings, now: datetime) -> dict[str, int]:
    out: dict[str, int] = {}
    store = PrivacyStore(db)
    for platform, tenant, removed_at in await pending_removals(db):
        if await _used_since(db, tenant, removed_at):
            if await cancel_removal(db, platform, tenant):
                out["removals_cancelled"] = out.get("removals_cancelled", 0) + 1
            continue
        if now < removed_at + removal_grace(settings):
            continue
        deleted = await store.forget_tenant(platform, tenant)
        await db.execute(update(tenant_removals).where(
            and_(tenant_removals.c.platform == platform, tenant_removals.c.tenant == tenant,
                 tenant_removals.c.purged_at.is_(None))).values(purged_at=now))
        out["workspaces_deleted"] = out.get("workspaces_deleted", 0) + 1
        for table, n in deleted.items():
            out[f"workspace_{table}"] = out.get(f"workspace_{table}", 0) + n
    return out
