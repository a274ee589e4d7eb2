"""Conversation references: where to reach a channel later, refreshed on every inbound message."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.model import ConversationRef
from bot.store.database import Database, utcnow
from bot.store.tables import conversation_refs


class RefStore:
    """Save, read and forget ConversationRefs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, ref: ConversationRef) -> None:
        now = utcnow()
        stmt = self.db.upsert(conversation_refs).values(platform=ref.platform, tenant=ref.tenant,
                                                channel=ref.channel, reference=ref.reference,
                                                updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["platform", "tenant", "channel"],
                                          set_={"reference": ref.reference, "updated_at": now})
        await self.db.execute(stmt)

    async def get(self, platform: str, tenant: str, channel: str) -> ConversationRef | None:
        stmt = select(conversation_refs).where(conversation_refs.c.platform == platform,
                                               conversation_refs.c.tenant == tenant,
                                               conversation_refs.c.channel == channel)
        row = await self.db.first(stmt)
        if row is None:
            return None
        return ConversationRef(row.platform, row.tenant, row.channel, dict(row.reference))

    async def all(self, platform: str, tenant: str) -> list[ConversationRef]:
        """Every saved reference of one tenant on one platform."""
        stmt = select(conversation_refs).where(conversation_refs.c.platform == platform,
                                               conversation_refs.c.tenant == tenant)
        rows = await self.db.rows(stmt)
        return [ConversationRef(r.platform, r.tenant, r.channel, dict(r.reference)) for r in rows]

    async def forget(self, platform: str, tenant: str, channel: str | None = None) -> None:
        """Drop one channel's reference, or all of a tenant's (app uninstalled)."""
        stmt = delete(conversation_refs).where(conversation_refs.c.platform == platform,
                                               conversation_refs.c.tenant == tenant)
        if channel is not None:
            stmt = stmt.where(conversation_refs.c.channel == channel)
        await self.db.execute(stmt)
