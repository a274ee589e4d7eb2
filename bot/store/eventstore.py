"""Inbound deliveries already handled: a retried or duplicated delivery is claimed only once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.store.database import Database, utcnow
from bot.store.tables import processed_events

KEEP = timedelta(days=2)


class EventStore:
    """`claim(key)` is True exactly once per key, across replicas."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, *keys: str) -> bool:
        """Claim every key at once; False if any was claimed before (nothing is changed then)."""
        now = utcnow()
        try:
            async with self.db.engine.begin() as conn:
                for key in keys:
                    await conn.execute(processed_events.insert().values(key=key[:200],
                                                                        seen_at=now))
        except IntegrityError:
            return False
        return True

    async def prune(self) -> None:
        """Forget keys older than two days (Slack retries within minutes)."""
        async with self.db.engine.begin() as conn:
            await conn.execute(delete(processed_events)
                               .where(processed_events.c.seen_at < utcnow() - KEEP))
