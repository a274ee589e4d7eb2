"""Acknowledged work in the database, so that nothing acknowledged is lost with a replica.

An adapter records what the platform sent *before* it acknowledges it, with a lease for this
replica, which the replica renews while it works on the item (`renew`, its heartbeat). When
the answer is delivered the item is done. If the replica dies (or is stopped and cannot finish
within its grace period), the item stays pending; once its lease runs out any replica claims it
(`claim_expired`) and does it again. Answers are idempotent (the same press
gives the same result), so doing an item twice after a crash never counts anything twice.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.database import Database, as_utc, utcnow
from bot.store.tables import work_items

KEEP = timedelta(days=2)
MAX_ATTEMPTS = 3
OWNER = f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass(frozen=True)
class WorkItem:
    """One acknowledged piece of work."""

    id: str
    kind: str
    tenant: str
    payload: dict[str, Any]
    attempts: int


class WorkStore:
    """Record, finish and take over acknowledged work; safe with many replicas."""

    def __init__(self, db: Database, lease: timedelta = timedelta(seconds=30),
                 clock: Callable[[], datetime] = utcnow, owner: str = OWNER) -> None:
        self.db = db
        self.lease = lease
        self.clock = clock
        self.owner = owner

    async def record(self, kind: str, tenant: str, payload: dict[str, Any],
                     key: str | None = None) -> WorkItem | None:
        """Write the item down, leased to this replica; None when `key` was recorded before
        (the platform delivered the same thing twice)."""
        now = self.clock()
        item_id = (key or f"{kind}:{uuid.uuid4().hex}")[:200]
        try:
            await self.db.execute(work_items.insert().values(
                id=item_id, kind=kind, tenant=tenant[:64], payload=payload, status="pending",
                attempts=1, owner=self.owner, lease_until=now + self.lease, created_at=now,
                updated_at=now))
        except IntegrityError:
            return None
        return WorkItem(item_id, kind, tenant, payload, 1)

    async def done(self, item_id: str) -> None:
        await self.db.execute(update(work_items).where(work_items.c.id == item_id)
                              .values(status="done", updated_at=self.clock()))

    async def retry_later(self, item_id: str, attempts: int, error: str) -> bool:
        """The attempt failed: pending again (taken over when its lease ends), or failed for
        good after MAX_ATTEMPTS. True when it will be tried again."""
        again = attempts < MAX_ATTEMPTS
        now = self.clock()
        values: dict[str, Any] = {"updated_at": now, "error": error[:200]}
        if again:
            values["lease_until"] = now + min(self.lease, timedelta(seconds=5 * attempts))
        else:
            values["status"] = "failed"
        await self.db.execute(update(work_items).where(work_items.c.id == item_id,
                                                       work_items.c.status == "pending")
                              .values(**values))
        return again

    async def release(self, item_ids: Sequence[str]) -> None:
        """Give unfinished items back now (a replica stopping): others take them at once."""
        if not item_ids:
            return
        now = self.clock()
        await self.db.execute(update(work_items)
                              .where(work_items.c.id.in_(list(item_ids)),
                                     work_items.c.status == "pending")
                              .values(lease_until=now, updated_at=now))

    async def renew(self, item_ids: Sequence[str]) -> None:
        """Extend the leases of items this replica is still working on (its heartbeat)."""
        if not item_ids:
            return
        now = self.clock()
        for start in range(0, len(item_ids), 500):
            await self.db.execute(update(work_items)
                                  .where(work_items.c.id.in_(list(item_ids[start:start + 500])),
                                         work_items.c.status == "pending")
                                  .values(lease_until=now + self.lease))

    async def claim_expired(self, limit: int = 20) -> list[WorkItem]:
        """Take over pending items whose lease ran out (their replica is gone)."""
        now = self.clock()
        due = (select(work_items.c.id, work_items.c.attempts)
               .where(work_items.c.status == "pending", work_items.c.lease_until <= now)
               .order_by(work_items.c.lease_until).limit(limit))
        claimed: list[WorkItem] = []
        for row in await self.db.rows(due):
            stmt = (update(work_items)
                    .where(work_items.c.id == row.id, work_items.c.status == "pending",
                           work_items.c.attempts == row.attempts,
                           work_items.c.lease_until <= now)
                    .values(attempts=row.attempts + 1, owner=self.owner,
                            lease_until=now + self.lease, updated_at=now))
            if await self.db.execute(stmt) != 1:
                continue  # another replica was faster
            item = await self.db.first(select(work_items).where(work_items.c.id == row.id))
            if item is not None:
                claimed.append(WorkItem(item.id, item.kind, item.tenant, dict(item.payload),
                                        item.attempts))
        return claimed

    async def counts(self) -> dict[str, int]:
        """Items per status (for logs and benchmarks)."""
        stmt = select(work_items.c.status, func.count()).group_by(work_items.c.status)
        return {row[0]: int(row[1]) for row in await self.db.rows(stmt)}

    async def lease_of(self, item_id: str) -> datetime | None:
        row = await self.db.first(select(work_items.c.lease_until)
                                  .where(work_items.c.id == item_id))
        return as_utc(row[0]) if row else None

    async def prune(self) -> None:
        """Forget finished items after two days."""
        await self.db.execute(delete(work_items).where(work_items.c.status != "pending",
                                                       work_items.c.updated_at
                                                       < self.clock() - KEEP))
