"""Learners' reports against questions and entries: drafts, filing, listing and resolving."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.database import Database, as_utc, utcnow
from bot.store.tables import reports, showings

OPEN = "open"
RESOLVED = "resolved"
DRAFT = "draft"  # a "Report a problem" press waiting for the learner's words
TEXT_LIMIT = 1000
RESOLUTION_LIMIT = 500
DRAFT_TTL = timedelta(days=1)  # drafts nobody filled are swept after this


@dataclass(frozen=True)
class Report:
    """One learner's report (or a draft of one)."""

    id: str
    platform: str
    tenant: str
    user_id: str
    user_name: str
    kind: str  # question | entry
    item_id: str
    text: str
    status: str  # draft | open | resolved
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None


class TooManyReports(Exception):
    """The learner already has the most open reports a day allows; nothing was recorded."""


def _report(row: Any) -> Report:
    return Report(row.id, row.platform, row.tenant, row.user_id, row.user_name, row.kind,
                  row.item_id, row.text, row.status, as_utc(row.created_at) or utcnow(),
                  as_utc(row.resolved_at), row.resolved_by, row.resolution)


def new_report_id() -> str:
    """Eight hex digits: short enough to type in `reports resolve <id>`."""
    return secrets.token_hex(4)


class ReportStore:
    """Every read and write of the reports feature, the CLI export and the daily question."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- learners ---------------------------------------------------------------------------

    async def latest_showing(self, tenant: str, user_id: str,
                             since: datetime) -> tuple[str, datetime] | None:
        """The question last shown to this learner at or after `since`, and when."""
        stmt = (select(showings.c.question_id, showings.c.shown_at)
                .where(showings.c.tenant == tenant, showings.c.user_id == user_id,
                       showings.c.shown_at >= since)
                .order_by(showings.c.shown_at.desc()).limit(1))
        row = await self.db.first(stmt)
        if row is None:
            return None
        return row.question_id, as_utc(row.shown_at) or self.clock()

    async def start_draft(self, platform: str, tenant: str, user_id: str, user_name: str,
                          kind: str, item_id: str) -> Report:
        """Remember what the learner pressed "Report a problem" on (their one draft)."""
        now = self.clock()
        async with self.db.engine.begin() as conn:
            await conn.execute(delete(reports).where(
                reports.c.status == DRAFT,
                (reports.c.created_at < now - DRAFT_TTL)
                | ((reports.c.tenant == tenant) & (reports.c.user_id == user_id))))
            report_id = await self._insert(conn, platform=platform, tenant=tenant,
                                           user_id=user_id, user_name=user_name, kind=kind,
                                           item_id=item_id, text="", status=DRAFT,
                                           created_at=now)
        return Report(report_id, platform, tenant, user_id, user_name, kind, item_id, "", DRAFT,
                      now)

    async def draft(self, tenant: str, user_id: str, since: datetime) -> Report | None:
        """The learner's draft, when they pressed the button at or after `since`."""
        stmt = (select(reports).where(reports.c.tenant == tenant, reports.c.user_id == user_id,
                                      reports.c.status == DRAFT, reports.c.created_at >= since)
                .order_by(reports.c.created_at.desc()).limit(1))
        row = await self.db.first(stmt)
        return _report(row) if row else None

    async def file(self, platform: str, tenant: str, user_id: str, user_name: str, kind: str,
                   item_id: str, text: str, daily_limit: int,
                   draft_id: str | None = None) -> Report:
        """Record an open report (filling the draft `draft_id` when given).

        Raises TooManyReports when the learner filed `daily_limit` reports in the last 24 hours
        that are still open; nothing is written then.
        """
        now = self.clock()
        text = text[:TEXT_LIMIT]
        async with self.db.engine.begin() as conn:
            count = (await conn.execute(
                select(func.count()).select_from(reports)
                .where(reports.c.tenant == tenant, reports.c.user_id == user_id,
                       reports.c.status == OPEN,
                       reports.c.created_at >= now - timedelta(days=1)))).scalar_one()
            if count >= daily_limit:
                raise TooManyReports()
            values = {"platform": platform, "user_name": user_name, "kind": kind,
                      "item_id": item_id, "text": text, "status": OPEN, "created_at": now}
            report_id = None
            if draft_id is not None:
                filled = await conn.execute(
                    update(reports).where(reports.c.id == draft_id, reports.c.tenant == tenant,
                                          reports.c.user_id == user_id,
                                          reports.c.status == DRAFT).values(**values))
                report_id = draft_id if filled.rowcount == 1 else None
            if report_id is None:
                report_id = await self._insert(conn, tenant=tenant, user_id=user_id, **values)
            await conn.execute(delete(reports).where(
                reports.c.tenant == tenant, reports.c.user_id == user_id,
                reports.c.status == DRAFT))
        return Report(report_id, platform, tenant, user_id, user_name, kind, item_id, text,
                      OPEN, now)

    async def _insert(self, conn: AsyncConnection, **values: Any) -> str:
        report_id = new_report_id()
        while (await conn.execute(select(reports.c.id).where(reports.c.id == report_id))).first():
            report_id = new_report_id()  # taken (1 in 4 billion): draw another
        await conn.execute(insert(reports).values(id=report_id, **values))
        return report_id

    # -- admins -----------------------------------------------------------------------------

    async def listing(self, platform: str, tenant: str, include_resolved: bool = False,
                      limit: int = 500) -> list[Report]:
        """A tenant's reports, newest first: open ones, or every filed one."""
        statuses = (OPEN, RESOLVED) if include_resolved else (OPEN,)
        stmt = (select(reports).where(reports.c.platform == platform, reports.c.tenant == tenant,
                                      reports.c.status.in_(statuses))
                .order_by(reports.c.created_at.desc(), reports.c.id).limit(limit))
        return [_report(row) for row in await self.db.rows(stmt)]

    async def get(self, report_id: str) -> Report | None:
        row = await self.db.first(select(reports).where(reports.c.id == report_id))
        return _report(row) if row else None

    async def resolve(self, report_id: str, platform: str, tenant: str, by: str,
                      note: str | None = None) -> bool:
        """Close an open report of this tenant; False when there is none to close."""
        resolution = note.strip()[:RESOLUTION_LIMIT] if note and note.strip() else None
        stmt = (update(reports)
                .where(reports.c.id == report_id, reports.c.platform == platform,
                       reports.c.tenant == tenant, reports.c.status == OPEN)
                .values(status=RESOLVED, resolved_at=self.clock(), resolved_by=by,
                        resolution=resolution))
        return await self.db.execute(stmt) == 1

    # -- content authors and the daily question ---------------------------------------------

    async def export(self, statuses: Iterable[str] = (OPEN, RESOLVED)) -> list[Report]:
        """Every tenant's reports with these statuses (never drafts), newest first."""
        wanted = [s for s in statuses if s != DRAFT]
        stmt = (select(reports).where(reports.c.status.in_(wanted))
                .order_by(reports.c.created_at.desc(), reports.c.id))
        return [_report(row) for row in await self.db.rows(stmt)]

    async def reported_question_ids(self) -> set[str]:
        """Questions with open reports in any tenant (question content is shared)."""
        stmt = (select(reports.c.item_id).distinct()
                .where(reports.c.kind == "question", reports.c.status == OPEN))
        return {row.item_id for row in await self.db.rows(stmt)}
