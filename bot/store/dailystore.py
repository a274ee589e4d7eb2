"""Daily channel quiz state: subscriptions, posts claimed once per day, answers once per user.

Posting and revealing are claimed with a lease and a token: the holder's writes are conditional
on its token, and a claim whose lease ran out (its replica died or was stopped) is taken over by
the next pass. An attempt is written down before the platform is called, so whoever holds the
claim next knows to check whether that earlier post landed before posting again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

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
    lease_until: datetime | None = None
    lease_token: str | None = None
    attempted_at: datetime | None = None
    outcome: str | None = None
    reveal_lease_until: datetime | None = None
    reveal_token: str | None = None
    reveal_attempted_at: datetime | None = None
    reveal_message_id: str | None = None


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
                as_utc(row.reveal_at), as_utc(row.revealed_at), as_utc(row.lease_until),
                row.lease_token, as_utc(row.attempted_at), row.outcome,
                as_utc(row.reveal_lease_until), row.reveal_token,
                as_utc(row.reveal_attempted_at), row.reveal_message_id)


class AlreadyAnswered(Exception):
    """The learner had answered this daily post already (the transaction is rolled back)."""


def new_token() -> str:
    return uuid.uuid4().hex


class DailyStore:
    """Reads and conditional writes for the daily quiz; safe with many replicas."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def transaction(self) -> Any:
        """One unit of work across stores: `async with store.transaction() as conn`."""
        return self.db.engine.begin()

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
                         module: str, option_order: list[int], lease: timedelta) -> Post | None:
        """Insert today's post for `sub`, leased to the caller; None when it exists already."""
        post_id = uuid.uuid4().hex
        now = self.clock()
        token = new_token()
        try:
            async with self.db.engine.begin() as conn:
                await conn.execute(daily_posts.insert().values(
                    id=post_id, subscription_id=sub.id, local_date=local_date,
                    question_id=question_id, module=module, option_order=option_order,
                    message_id=None, claimed_at=now, posted_at=None, reveal_at=None,
                    revealed_at=None, lease_until=now + lease, lease_token=token))
        except IntegrityError:
            return None
        return Post(post_id, sub.id, local_date, question_id, module, tuple(option_order),
                    None, None, None, None, lease_until=now + lease, lease_token=token)

    async def post_for_day(self, sub_id: str, local_date: str) -> Post | None:
        stmt = select(daily_posts).where(daily_posts.c.subscription_id == sub_id,
                                         daily_posts.c.local_date == local_date)
        row = await self.db.first(stmt)
        return _post(row) if row else None

    async def take_over(self, post: Post, lease: timedelta) -> Post | None:
        """Claim a post nobody finished whose lease has run out; None if someone was faster."""
        now = self.clock()
        token = new_token()
        stmt = (update(daily_posts)
                .where(daily_posts.c.id == post.id, daily_posts.c.message_id.is_(None),
                       daily_posts.c.outcome.is_(None),
                       or_(daily_posts.c.lease_until.is_(None), daily_posts.c.lease_until <= now))
                .values(lease_until=now + lease, lease_token=token))
        if await self.db.execute(stmt) != 1:
            return None
        fresh = await self.post(post.id)
        return fresh if fresh is not None and fresh.lease_token == token else None

    async def mark_attempt(self, post: Post, lease: timedelta) -> bool:
        """Write down that a post is about to be sent (before the platform is called)."""
        now = self.clock()
        stmt = (update(daily_posts)
                .where(daily_posts.c.id == post.id, daily_posts.c.lease_token == post.lease_token,
                       daily_posts.c.message_id.is_(None))
                .values(attempted_at=func.coalesce(daily_posts.c.attempted_at, now),
                        lease_until=now + lease))
        return await self.db.execute(stmt) == 1

    async def release_post(self, post: Post, delivered_nothing: bool,
                           hold: timedelta = timedelta(0)) -> None:
        """Give the claim up so a later pass tries again (the same day), after `hold`.

        `delivered_nothing` when the platform clearly refused: the next holder need not check
        whether this attempt landed.
        """
        values: dict[str, Any] = {"lease_until": self.clock() + hold}
        if delivered_nothing:
            values["attempted_at"] = None
        stmt = (update(daily_posts)
                .where(daily_posts.c.id == post.id, daily_posts.c.lease_token == post.lease_token,
                       daily_posts.c.message_id.is_(None))
                .values(**values))
        await self.db.execute(stmt)

    async def give_up_post(self, post: Post, outcome: str) -> None:
        """Never try this post again (at-most-once on a platform that cannot be checked)."""
        stmt = (update(daily_posts)
                .where(daily_posts.c.id == post.id, daily_posts.c.message_id.is_(None))
                .values(outcome=outcome, lease_until=None, lease_token=None))
        await self.db.execute(stmt)

    async def mark_posted(self, post_id: str, message_id: str, reveal_at: datetime,
                          posted_at: datetime | None = None) -> bool:
        """Record the delivered post (whoever holds the claim now: the message exists)."""
        stmt = (update(daily_posts)
                .where(daily_posts.c.id == post_id, daily_posts.c.message_id.is_(None))
                .values(message_id=message_id, posted_at=posted_at or self.clock(),
                        reveal_at=reveal_at, lease_until=None, lease_token=None, outcome=None))
        return await self.db.execute(stmt) == 1

    async def post(self, post_id: str) -> Post | None:
        row = await self.db.first(select(daily_posts).where(daily_posts.c.id == post_id))
        return _post(row) if row else None

    async def posts(self, sub_id: str, since_date: str = "") -> list[Post]:
        stmt = (select(daily_posts).where(daily_posts.c.subscription_id == sub_id,
                                          daily_posts.c.local_date >= since_date)
                .order_by(daily_posts.c.local_date))
        return [_post(r) for r in await self.db.rows(stmt)]

    async def due_reveals(self, now: datetime) -> list[Post]:
        """Delivered posts past their reveal time, not revealed and not being revealed."""
        stmt = select(daily_posts).where(
            daily_posts.c.revealed_at.is_(None), daily_posts.c.reveal_at.is_not(None),
            daily_posts.c.reveal_at <= now, daily_posts.c.message_id.is_not(None),
            or_(daily_posts.c.reveal_lease_until.is_(None),
                daily_posts.c.reveal_lease_until <= now))
        return [_post(r) for r in await self.db.rows(stmt)]

    async def claim_reveal(self, post_id: str, lease: timedelta) -> Post | None:
        """Lease the reveal of a post; None when it is revealed or someone else holds it."""
        now = self.clock()
        token = new_token()
        stmt = (update(daily_posts)
                .where(daily_posts.c.id == post_id, daily_posts.c.revealed_at.is_(None),
                       daily_posts.c.message_id.is_not(None),
                       or_(daily_posts.c.reveal_lease_until.is_(None),
                           daily_posts.c.reveal_lease_until <= now))
                .values(reveal_lease_until=now + lease, reveal_token=token))
        if await self.db.execute(stmt) != 1:
            return None
        fresh = await self.post(post_id)
        return fresh if fresh is not None and fresh.reveal_token == token else None

    async def mark_reveal_attempt(self, post: Post, lease: timedelta) -> bool:
        now = self.clock()
        stmt = (update(daily_posts)
                .where(daily_posts.c.id == post.id, daily_posts.c.reveal_token == post.reveal_token,
                       daily_posts.c.revealed_at.is_(None))
                .values(reveal_attempted_at=func.coalesce(daily_posts.c.reveal_attempted_at, now),
                        reveal_lease_until=now + lease))
        return await self.db.execute(stmt) == 1

    async def release_reveal(self, post: Post, delivered_nothing: bool,
                             hold: timedelta = timedelta(0)) -> None:
        values: dict[str, Any] = {"reveal_lease_until": self.clock() + hold}
        if delivered_nothing:
            values["reveal_attempted_at"] = None
        stmt = (update(daily_posts)
                .where(daily_posts.c.id == post.id, daily_posts.c.reveal_token == post.reveal_token,
                       daily_posts.c.revealed_at.is_(None))
                .values(**values))
        await self.db.execute(stmt)

    async def mark_revealed(self, post_id: str, message_id: str | None,
                            outcome: str | None = None) -> bool:
        """The reveal is out (or, with `outcome`, will not be tried again)."""
        values: dict[str, Any] = {"revealed_at": self.clock(), "reveal_message_id": message_id,
                                  "reveal_lease_until": None, "reveal_token": None}
        if outcome is not None:
            values["outcome"] = outcome
        stmt = (update(daily_posts)
                .where(daily_posts.c.id == post_id, daily_posts.c.revealed_at.is_(None))
                .values(**values))
        return await self.db.execute(stmt) == 1

    async def answer(self, post_id: str, user_id: str, user_name: str, chosen: int,
                     correct: bool, conn: AsyncConnection | None = None) -> bool:
        """Record a learner's first answer; False when they had already answered.

        Inside a caller's transaction (`conn`) a repeated answer raises AlreadyAnswered instead,
        so that the caller's other writes are rolled back with it.
        """
        values = {"post_id": post_id, "user_id": user_id, "user_name": user_name or user_id,
                  "chosen": chosen, "correct": correct, "answered_at": self.clock()}
        if conn is not None:
            try:
                await conn.execute(daily_answers.insert().values(**values))
            except IntegrityError:
                raise AlreadyAnswered(post_id) from None
            return True
        try:
            async with self.db.engine.begin() as own:
                await own.execute(daily_answers.insert().values(**values))
        except IntegrityError:
            return False
        return True

    async def answer_of(self, post_id: str, user_id: str) -> DailyAnswer | None:
        stmt = select(daily_answers).where(daily_answers.c.post_id == post_id,
                                           daily_answers.c.user_id == user_id)
        row = await self.db.first(stmt)
        return DailyAnswer(row.user_id, row.user_name, row.chosen, bool(row.correct),
                           as_utc(row.answered_at) or utcnow()) if row else None

    async def answers(self, post_id: str) -> list[DailyAnswer]:
        stmt = (select(daily_answers).where(daily_answers.c.post_id == post_id)
                .order_by(daily_answers.c.answered_at))
        rows = await self.db.rows(stmt)
        return [DailyAnswer(r.user_id, r.user_name, r.chosen, bool(r.correct),
                            as_utc(r.answered_at) or utcnow()) for r in rows]
