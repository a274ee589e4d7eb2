"""Role-play sessions in the database: one open session per learner, updated with a version check."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.store.database import Database, as_utc, utcnow
from bot.store.quizstore import QuizStore, Review
from bot.store.tables import roleplays


@dataclass(frozen=True)
class Session:
    """A role-play as stored: its state is the dialogue's own JSON."""

    id: str
    tenant: str
    user_id: str
    scenario_id: str
    topic: str
    status: str
    state: dict[str, Any]
    score: int | None
    updated_at: datetime
    version: int


def _session(row: Any) -> Session:
    return Session(row.id, row.tenant, row.user_id, row.scenario_id, row.topic, row.status,
                   dict(row.state), row.score, as_utc(row.updated_at) or utcnow(), row.version)


class RoleplayStore:
    """Create, read and advance role-play sessions; a stale write is refused, not merged."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def open_session(self, tenant: str, user_id: str) -> Session | None:
        stmt = (select(roleplays).where(roleplays.c.tenant == tenant,
                                        roleplays.c.user_id == user_id,
                                        roleplays.c.status == "open")
                .order_by(roleplays.c.updated_at.desc()).limit(1))
        row = await self.db.first(stmt)
        return _session(row) if row else None

    async def get(self, session_id: str) -> Session | None:
        row = await self.db.first(select(roleplays).where(roleplays.c.id == session_id))
        return _session(row) if row else None

    async def create(self, tenant: str, user_id: str, scenario_id: str, topic: str,
                     state: dict[str, Any]) -> Session:
        now = self.clock()
        session_id = uuid.uuid4().hex
        async with self.db.engine.begin() as conn:
            await conn.execute(roleplays.insert().values(
                id=session_id, tenant=tenant, user_id=user_id, scenario_id=scenario_id,
                topic=topic, status="open", state=state, score=None, started_at=now,
                updated_at=now, version=0))
        return Session(session_id, tenant, user_id, scenario_id, topic, "open", state, None, now,
                       0)

    async def save(self, session: Session, state: dict[str, Any], status: str = "open",
                   score: int | None = None) -> bool:
        """Write the next state if nobody else advanced the session since it was read."""
        stmt = (update(roleplays)
                .where(roleplays.c.id == session.id, roleplays.c.version == session.version,
                       roleplays.c.status == "open")
                .values(state=state, status=status, score=score, updated_at=self.clock(),
                        version=session.version + 1))
        return await self.db.execute(stmt) == 1

    async def finish(self, session: Session, state: dict[str, Any], score: int,
                     card_item: str | None = None, module: str = "",
                     review: Review | None = None) -> bool:
        """Finish the session and rate the learner's card for it in one transaction: both
        happen or neither (a crash in between cannot leave a finished role-play unrated)."""
        now = self.clock()
        stmt = (update(roleplays)
                .where(roleplays.c.id == session.id, roleplays.c.version == session.version,
                       roleplays.c.status == "open")
                .values(state=state, status="finished", score=score, updated_at=now,
                        version=session.version + 1))
        async with self.db.engine.begin() as conn:
            if (await conn.execute(stmt)).rowcount != 1:
                return False
            if card_item is not None and review is not None:
                cards_store = QuizStore(self.db, self.clock)
                existing = await cards_store.get_card(session.tenant, session.user_id, card_item,
                                                      conn=conn, for_update=True)
                card, due = review(existing.card if existing else None)
                await cards_store.save_card(session.tenant, session.user_id, card_item, module,
                                            card, due, conn=conn)
        return True

    async def close(self, session: Session, status: str) -> bool:
        stmt = (update(roleplays).where(roleplays.c.id == session.id,
                                        roleplays.c.status == "open")
                .values(status=status, updated_at=self.clock(), version=session.version + 1))
        return await self.db.execute(stmt) == 1

    async def finished(self, tenant: str, user_id: str) -> list[Session]:
        stmt = (select(roleplays).where(roleplays.c.tenant == tenant,
                                        roleplays.c.user_id == user_id,
                                        roleplays.c.status == "finished")
                .order_by(roleplays.c.updated_at))
        return [_session(r) for r in await self.db.rows(stmt)]
