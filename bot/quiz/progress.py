"""`stats` (accuracy, mastery, streaks, reviews due) and `leaderboard` for a tenant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from bot.knowledge.schema import KnowledgeBase
from bot.model import Field, Message, Reply
from bot.quiz.feature import Clock, end_of_day
from bot.quiz.memory import retrievability
from bot.router import Router
from bot.store.quizstore import QuizStore
from bot.text import bar, escape_md

StatsSection = Callable[[str, str], Awaitable[list[str]]]


def streaks(days: set[date], today: date) -> tuple[int, int]:
    """(current, best): runs of consecutive days with an answer; today may still be empty."""
    if not days:
        return 0, 0
    best = run = 0
    previous: date | None = None
    for day in sorted(days):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    current = 0
    cursor = today if today in days else today - timedelta(days=1)
    while cursor in days:
        current += 1
        cursor -= timedelta(days=1)
    return current, best


def week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of `now`'s week."""
    monday = now - timedelta(days=now.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


class ProgressFeature:
    """Progress views computed from answers and cards."""

    def __init__(self, kb: KnowledgeBase, store: QuizStore, clock: Clock) -> None:
        self.kb = kb
        self.store = store
        self.clock = clock
        self.extra_sections: list[StatsSection] = []

    def register(self, router: Router) -> None:
        router.command("stats", "stats", "your progress: accuracy, mastery, streak, reviews due",
                       self.cmd_stats)
        router.command("leaderboard", "leaderboard", "this workspace's ranking",
                       self.cmd_leaderboard)

    async def cmd_stats(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        now = self.clock()
        summary = await self.store.answer_summary(ctx.tenant, ctx.user, with_days=True)
        cards = [c for c in await self.store.cards(ctx.tenant, ctx.user)
                 if c.item_id in self.kb.questions]
        modules = list(dict.fromkeys(s.module for s in self.kb.sections))
        correct = summary.correct
        accuracy = f"{round(100 * correct / summary.total)} %" if summary.total else "–"
        current, best = streaks(set(summary.days), now.date())
        due_today = sum(1 for c in cards if c.due <= end_of_day(now))
        if due_today:
            due_text = f"{due_today} due today (`review`)"
        elif cards:
            due_text = f"none today; next on {min(c.due for c in cards):%a %d %b}"
        else:
            due_text = "none yet"
        lines = [f"**Your progress, {escape_md(ctx.user_name or ctx.user)}**",
                 f"Answered: **{summary.total}** · correct: **{correct}** · "
                 f"accuracy: **{accuracy}**",
                 f"Streak: **{current}** day{'s' if current != 1 else ''} "
                 f"(best {best})",
                 f"Reviews: {due_text}",
                 "**By module**: accuracy · mastery (how likely you still remember)"]
        per_module = summary.per_module
        mastery: dict[str, list[float]] = defaultdict(list)
        for card in cards:
            mastery[card.module].append(retrievability(card.card, now))
        fields = []
        for module in modules:
            c, n = per_module.get(module, (0, 0))
            acc = f"{bar(c / n)} {round(100 * c / n):>3} %" if n else f"{bar(0)}   – "
            values = mastery.get(module)
            mast = f"{round(100 * sum(values) / len(values))} %" if values else "–"
            fields.append(Field(module, f"{acc} · mastery {mast} ({n} answered)"))
        for section in self.extra_sections:
            lines += await section(ctx.tenant, ctx.user)
        return [Reply("\n".join(lines), fields=tuple(fields), private=True)]

    async def cmd_leaderboard(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        now = self.clock()
        lines = ["**Leaderboard**"]
        for title, since in (("This week", week_start(now)), ("All time", None)):
            rows = await self.store.leaderboard(ctx.tenant, since)
            lines.append(f"**{title}**")
            if not rows:
                lines.append("- no answers yet")
            for rank, (user_id, name, correct, answered) in enumerate(rows, start=1):
                you = " ← you" if user_id == ctx.user else ""
                lines.append(f"{rank}. {escape_md(name)}: {correct} correct "
                             f"({round(100 * correct / answered)} % of {answered}){you}")
        return [Reply("\n".join(lines))]
