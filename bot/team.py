"""Team readiness for admins: one row per learner of the tenant plus a summary (`team`, export)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.durations import plural
from bot.home import RUN_ACTION, add_home_block
from bot.model import Choice, Context, Message, Reply
from bot.quiz.readiness import (
    NO_EVIDENCE,
    NOT_YET,
    READY,
    RECENT,
    Evidence,
    Readiness,
    ReadinessFeature,
    estimate,
    team_weakest,
)
from bot.router import Router
from bot.store.teamstore import Learner, RoleplayRecord
from bot.text import escape_md

Clock = Callable[[], datetime]
CHAT_ROWS = 30  # more than this in chat is a wall of text: the export has everyone
VERDICT_WORDS = {READY: "ready", NOT_YET: "not yet", NO_EVIDENCE: "not enough evidence"}
EXPORT_FIELDS = ("user_id", "name", "last_active", "answers_30d", "accuracy_30d",
                 "answers_total", "readiness", "readiness_low", "readiness_high", "confidence",
                 "verdict", "exams_passed", "exams_taken", "roleplays", "roleplay_best",
                 "roleplay_average", "weakest_sections")


@dataclass(frozen=True)
class TeamRow:
    """One learner as the team lead sees them."""

    user_id: str
    name: str
    last_active: datetime | None
    answers_30d: int
    correct_30d: int
    answers_total: int
    reading: Readiness
    exams_passed: int
    exams_taken: int
    roleplays: RoleplayRecord

    @property
    def accuracy_30d(self) -> int | None:
        return round(100 * self.correct_30d / self.answers_30d) if self.answers_30d else None

    @property
    def verdict(self) -> str:
        return VERDICT_WORDS[self.reading.verdict]

    @property
    def weakest(self) -> list[str]:
        return [s.section for s in self.reading.weakest]

    def as_dict(self) -> dict[str, Any]:
        """The row for the export (the same numbers `team` shows)."""
        average = self.roleplays.average
        return {
            "user_id": self.user_id,
            "name": self.name,
            "last_active": f"{self.last_active:%Y-%m-%d}" if self.last_active else "",
            "answers_30d": self.answers_30d,
            "accuracy_30d": self.accuracy_30d,
            "answers_total": self.answers_total,
            "readiness": self.reading.percent,
            "readiness_low": round(100 * self.reading.low),
            "readiness_high": round(100 * self.reading.high),
            "confidence": self.reading.confidence,
            "verdict": self.verdict,
            "exams_passed": self.exams_passed,
            "exams_taken": self.exams_taken,
            "roleplays": self.roleplays.count,
            "roleplay_best": self.roleplays.best,
            "roleplay_average": None if average is None else round(average),
            "weakest_sections": self.weakest,
        }


async def team_rows(feature: ReadinessFeature, tenant: str,
                    user: str | None = None, name: str = "") -> list[TeamRow]:
    """Every learner of `tenant` (or only `user`, named `name` if the store has no row for
    them yet), by name."""
    store, now = feature.store, feature.clock()
    learners = await store.learners(tenant, user)
    if user is not None and not learners:
        learners = [Learner(user, name or user, now)]
        last_seen: dict[str, datetime | None] = {user: None}
    else:
        last_seen = {learner.user_id: learner.last_seen_at for learner in learners}
    cards = await store.cards(tenant, user)
    all_time = await store.answer_counts(tenant, user=user)
    recent = await store.answer_counts(tenant, since=now - RECENT, user=user)
    exams = await store.finished_exams(tenant, user)
    roleplays = await store.roleplay_results(tenant, user)
    bank = feature.bank

    def read_all() -> dict[str, Readiness]:  # ~8 µs a card: off the event loop for big teams
        return {learner.user_id: estimate(bank, Evidence(cards.get(learner.user_id, {}),
                                                         all_time.get(learner.user_id, {}),
                                                         tuple(exams.get(learner.user_id, []))),
                                          now, feature.pass_mark)
                for learner in learners}

    readings = read_all() if len(learners) <= 5 else await asyncio.to_thread(read_all)
    rows = []
    for learner in learners:
        uid = learner.user_id
        answers = all_time.get(uid, {})
        mine = exams.get(uid, [])
        reading = readings[uid]
        recent_counts = recent.get(uid, {}).values()
        rows.append(TeamRow(
            uid, learner.name, last_seen[uid],
            sum(n for _, n in recent_counts), sum(c for c, _ in recent_counts),
            sum(n for _, n in answers.values()), reading,
            sum(1 for e in mine if e.percent >= e.pass_mark), len(mine),
            roleplays.get(uid, RoleplayRecord(0, None, None))))
    rows.sort(key=lambda r: (r.name.casefold(), r.user_id))
    return rows


def row_line(row: TeamRow) -> str:
    """One learner in chat (names escaped)."""
    active = f"last active {row.last_active:%d %b}" if row.last_active else "no activity yet"
    accuracy = f", {row.accuracy_30d} % right" if row.accuracy_30d is not None else ""
    reading = row.reading
    role = row.roleplays
    roleplay = (f"role-play {role.count}× (best {role.best}, avg {round(role.average)})"
                if role.count and role.best is not None and role.average is not None
                else "role-play –")
    weakest = ", ".join(escape_md(s) for s in row.weakest)
    return (f"- **{escape_md(row.name)}** ({active}): {plural(row.answers_30d, 'answer')} in 30 days"
            f"{accuracy} · readiness **{reading.percent} %** "
            f"({round(100 * reading.low)}–{round(100 * reading.high)} %): **{row.verdict}** · "
            f"exams passed {row.exams_passed} of {row.exams_taken} · {roleplay} · "
            f"weakest: {weakest or '–'}")


def summary_lines(rows: list[TeamRow]) -> list[str]:
    """How many learners, how many ready, and the sections the team is weakest in."""
    verdicts = Counter(r.reading.verdict for r in rows)
    active = sum(1 for r in rows if r.answers_30d)
    lines = [f"**Team readiness**: {len(rows)} learner{'s' if len(rows) != 1 else ''} "
             f"({active} active in the last 30 days): **{verdicts[READY]} ready**, "
             f"{verdicts[NOT_YET]} not yet, {verdicts[NO_EVIDENCE]} not enough evidence"]
    weakest = team_weakest(r.reading for r in rows)
    names = ", ".join(
        f"{escape_md(s.module)} › {escape_md(s.section)} "
        + (f"({round(100 * s.score)} %, {s.seen} practised)" if s.seen else "(not started)")
        for s in weakest)
    lines.append(f"Team's weakest sections: {names or 'none below 90 %'}")
    return lines


class TeamFeature:
    """The `team` command and, for admins, the team summary in the App Home."""

    def __init__(self, readiness: ReadinessFeature) -> None:
        self.readiness = readiness

    def register(self, router: Router) -> None:
        router.command("team", "team", "team readiness per learner (admins; others see their "
                       "own row)", self.cmd_team)
        add_home_block(router, self.home_block)

    async def cmd_team(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        if not ctx.is_admin:
            [row] = await team_rows(self.readiness, ctx.tenant, ctx.user, ctx.user_name)
            return [Reply("Team readiness is for workspace admins; this is your own row "
                          "(`ready` explains it):\n" + row_line(row), private=True)]
        rows = await team_rows(self.readiness, ctx.tenant)
        if not rows:
            return [Reply("Nobody in this workspace has used the quiz yet.", private=True)]
        lines = summary_lines(rows)
        lines.append(f"**Learners** (pass mark {self.readiness.pass_mark} %; readiness is a "
                     "predicted score with its likely range)")
        lines += [row_line(row) for row in rows[:CHAT_ROWS]]
        if len(rows) > CHAT_ROWS:
            lines.append(f"… and {len(rows) - CHAT_ROWS} more: `aws-quiz report team --tenant "
                         f"{escape_md(ctx.tenant)} --format csv` exports everyone.")
        return [Reply("\n".join(lines), private=True)]

    async def home_block(self, ctx: Context) -> list[Reply]:
        """The team summary, for admins only."""
        if not ctx.is_admin:
            return []
        rows = await team_rows(self.readiness, ctx.tenant)
        if not rows:
            return []
        return [Reply("\n".join(summary_lines(rows)), private=True,
                      choices=(Choice(RUN_ACTION, "Team details", "team"),))]
