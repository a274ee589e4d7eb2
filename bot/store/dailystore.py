"""Daily channel quiz state: subscriptions, posts claimed once per day, answers once per user."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.database import Database, as_utc, utcnow
from bot.store.tables import daily_answers, daily_posts, daily_subscriptions


@dataclass(frozen=True)
class Subscription:
    """A channel's daily question settings."""

    id: str
    platform: str
    tenant: str
    channel: str
    post_time: str
    timezone: str
    days: str
    reveal_minutes: int
    enabled: bool


@dataclass(frozen=True)
class Post:
    """One day's question in one channel."""

    id: str
    subscription_id: str
    local_date: str
    question_id: str
    module: str
    option_order: tuple[int, ...]
    message_id: str | None
    posted_at: datetime | None
    reveal_at: datetime | None
    revealed_at: datetime | None


@dataclass(frozen=True)
class DailyAnswer:
    """One learner's answer to a daily post."""

    user_id: str
    user_name: str
    chosen: int
    correct: bool
    answered_at: datetime


def _sub(row: Any) -> Subscription:
    return Subscription(row.id, row.platform, row.tenant, row.channel, row.post_time,
                        row.timezone, row.days, row.reveal_minutes, bool(row.enabled))


def _post(row: Any) -> Post:
    return Post(row.id, row.subscription_id, row.local_date, row.question_id, row.module,
                tuple(row.option_order), row.message_id, as_utc(row.posted_at),
                as_utc(row.reveal_at), as_utc(row.revealed_at))


class DailyStore:
    """Reads and conditional writes for the daily quiz; safe with many replicas."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def subscribe(self, platform: str, tenant: str, channel: str, post_time: str,
                        timezone: str, days: str, reveal_minutes: int, user: str) -> Subscription:
        values = {"post_time": post_time, "timezone": timezone, "days": days,
                  "reveal_minutes": reveal_minutes, "enabled": True, "created_by": user,
                  "updated_at": self.clock()}
        stmt = self.db.upsert(daily_subscriptions).values(id=uuid.uuid4().hex, platform=platform,
                                                  tenant=tenant, channel=channel, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["platform", "tenant", "channel"],
                                          set_=values)
        await self.db.execute(stmt)
        sub = await self.subscription(platform, tenant, channel)
        assert sub is not None
        return sub

    async def unsubscribe(self, platform: str, tenant: str, channel: str) -> bool:
        stmt = (update(daily_subscriptions)
                .where(daily_subscriptions.c.platform == platform,
                       daily_subscriptions.c.tenant == tenant,
                       daily_subscriptions.c.channel == channel,
                       daily_subscriptions.c.enabled.is_(True))
                .values(enabled=False, updated_at=self.clock()))
        return await self.db.execute(stmt) == 1

    async def disable_tenant(self, platform: str, tenant: str) -> None:
        """The app was uninstalled: stop every daily post of that workspace."""
        stmt = (update(daily_subscriptions)
                .where(daily_subscriptions.c.platform == platform,
                       daily_subscriptions.c.tenant == tenant)
                .values(enabled=False, updated_at=self.clock()))
        await self.db.execute(stmt)

    async def subscription(self, platform: str, tenant: str, channel: str) -> Subscription | None:
        stmt = select(daily_subscriptions).where(daily_subscriptions.c.platform == platform,
                                                 daily_subscriptions.c.tenant == tenant,
                                                 daily_subscriptions.c.channel == channel)
        row = await self.db.first(stmt)
        return _sub(row) if row else None

    async def subscription_by_id(self, sub_id: str) -> Subscription | None:
        stmt = select(daily_subscriptions).where(daily_subscriptions.c.id == sub_id)
        row = await self.db.first(stmt)
        return _sub(row) if row else None

    async def enabled(self) -> list[Subscription]:
        stmt = select(daily_subscriptions).where(daily_subscriptions.c.enabled.is_(True))
        return [_sub(r) for r in await self.db.rows(stmt)]

    async def claim_post(self, sub: Subscription, local_date: str, question_id: str,
                         module: str, option_order: list[int]) -> Post | None:
        """Insert today's post for `sub`; None when another replica (or pass) already did."""
        post_id = uuid.uuid4().hex
        now = self.clock()
        try:
            async with self.db.engine.begin() as conn:
                await conn.execute(daily_posts.insert().values(
                    id=post_id, subscription_id=sub.id, local_date=local_date,
                    question_id=question_id, module=module, option_order=option_order,
                    message_id=None, claimed_at=now, posted_at=None, reveal_at=None,
                    revealed_at=None))
        except IntegrityError:
            return None
        return Post(post_id, sub.id, local_date, question_id, module, tuple(option_order),
                    None, None, None, None)

    async def release_post(self, post_id: str) -> None:
        """Posting failed: give the claim back so a later pass can try again the same day."""
        async with self.db.engine.begin() as conn:
            await conn.execute(delete(daily_posts).where(daily_posts.c.id == post_id,
                                                         daily_posts.c.posted_at.is_(None)))

    async def mark_posted(self, post_id: str, message_id: str, reveal_at: datetime) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(update(daily_posts).where(daily_posts.c.id == post_id)
                               .values(message_id=message_id, posted_at=self.clock(),
                                       reveal_at=reveal_at))

    async def post(self, post_id: str) -> Post | None:
        row = await self.db.first(select(daily_posts).where(daily_posts.c.id == post_id))
        return _post(row) if row else None

    async def posts(self, sub_id: str, since_date: str = "") -> list[Post]:
        stmt = (select(daily_posts).where(daily_posts.c.subscription_id == sub_id,
                                          daily_posts.c.local_date >= since_date)
                .order_by(daily_posts.c.local_date))
        return [_post(r) for r in await self.db.rows(stmt)]

    async def due_reveals(self, now: datetime) -> list[Post]:
        stmt = select(daily_posts).where(daily_posts.c.revealed_at.is_(None),
                                         daily_posts.c.reveal_at.is_not(None),
                                         daily_posts.c.reveal_at <= now)
        return [_post(r) for r in await self.db.rows(stmt)]

    async def claim_reveal(self, post_id: str) -> bool:
        stmt = (update(daily_posts).where(daily_posts.c.id == post_id,
                                          daily_posts.c.revealed_at.is_(None))
                .values(revealed_at=self.clock()))
        return await self.db.execute(stmt) == 1

    async def release_reveal(self, post_id: str) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(update(daily_posts).where(daily_posts.c.id == post_id)
                               .values(revealed_at=None))

    async def answer(self, post_id: str, user_id: str, user_name: str, chosen: int,
                     correct: bool) -> bool:
        """Record a learner's first answer; False when they had already answered."""
        try:
            async with self.db.engine.begin() as conn:
                await conn.execute(daily_answers.insert().values(
                    post_id=post_id, user_id=user_id, user_name=user_name or user_id,
                    chosen=chosen, correct=correct, answered_at=self.clock()))
        except IntegrityError:
            return False
        return True

    async def answers(self, post_id: str) -> list[DailyAnswer]:
        stmt = (select(daily_answers).where(daily_answers.c.post_id == post_id)
                .order_by(daily_answers.c.answered_at))
        rows = await self.db.rows(stmt)
        return [DailyAnswer(r.user_id, r.user_name, r.chosen, bool(r.correct),
                            as_utc(r.answered_at) or utcnow()) for r in rows]
