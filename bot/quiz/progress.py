"""`stats` (accuracy, mastery, trend, exams, weakest sections) and `leaderboard` for a tenant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from bot.knowledge.schema import KnowledgeBase
from bot.model import Field, Message, Reply
from bot.quiz.feature import Clock, end_of_day
from bot.quiz.memory import retrievability
from bot.quiz.ranking import MIN_ANSWERS, TOP, own_place, rank, same_board, top_lines
from bot.quiz.scope import resolve_scope
from bot.router import Router
from bot.store.historystore import HistoryStore, PastExam, PracticeScore
from bot.store.quizstore import CardRow, QuizStore
from bot.store.retention import archived_totals
from bot.text import bar, escape_md

StatsSection = Callable[[str, str], Awaitable[list[str]]]

MASTERY_AHEAD = timedelta(days=7)  # mastery: the chance of still remembering a week from now
MASTERY_MIN_QUESTIONS = 3  # below this many answered questions a module shows "–"
EXAMS_SHOWN = 5


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


def _percent(correct: int, answered: int) -> int:
    return round(100 * correct / answered) if answered else 0


def trend_line(this_week: tuple[int, int], last_week: tuple[int, int]) -> str:
    """'This week 24 answers, 71 % · last week 10, 60 % · accuracy ↑' from (answered, correct)."""
    (n, c), (m, d) = this_week, last_week
    now_part = (f"This week {n} answer{'s' if n != 1 else ''}, {_percent(c, n)} %" if n
                else "This week no answers yet")
    before = f"last week {m}, {_percent(d, m)} %" if m else "last week none"
    arrow = ""
    if n and m:
        change = _percent(c, n) - _percent(d, m)
        arrow = " · accuracy " + ("↑" if change > 0 else "↓" if change < 0 else "→")
    return f"{now_part} · {before}{arrow}"


def exam_line(kb: KnowledgeBase, exam: PastExam) -> str:
    """'- Tue 03 Nov · Storage · 18/25 (72 %) PASS', with 'time ran out' or 'abandoned'."""
    scope = resolve_scope(kb, exam.scope)
    label = scope.label if scope is not None else escape_md(exam.scope)
    when = f"{exam.started_at:%a %d %b}"
    if exam.status == "abandoned":
        return (f"- {when} · {label} · {exam.right}/{exam.total} · abandoned after "
                f"{exam.answered} of {exam.total}")
    percent = _percent(exam.right, exam.total)
    verdict = "PASS" if percent >= exam.pass_mark else "FAIL"
    line = f"- {when} · {label} · {exam.right}/{exam.total} ({percent} %) {verdict}"
    if exam.answered < exam.total and exam.deadline is not None:
        line += " · time ran out"
    return line


class ProgressFeature:
    """Progress views computed from answers, cards and exams."""

    def __init__(self, kb: KnowledgeBase, store: QuizStore, clock: Clock,
                 history: HistoryStore | None = None) -> None:
        self.kb = kb
        self.store = store
        self.clock = clock
        self.history = history or HistoryStore(store.db)
        # Lines other features add to `stats` (role-play, readiness): `async (tenant, user)`.
        self.extra_sections: list[StatsSection] = []

    def register(self, router: Router) -> None:
        router.command("stats", "stats",
                       "your progress: accuracy, mastery, trend, exams, streak, reviews due",
                       self.cmd_stats)
        router.command("leaderboard", "leaderboard",
                       "this workspace's ranking (accuracy and spaced practice, not volume)",
                       self.cmd_leaderboard)

    # -- stats ------------------------------------------------------------------------------

    async def cmd_stats(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        now = self.clock()
        summary = await self.store.answer_summary(ctx.tenant, ctx.user, with_days=True)
        cards = [c for c in await self.store.cards(ctx.tenant, ctx.user)
                 if c.item_id in self.kb.questions]
        # answers pruned by retention (AWS_QUIZ_RETENTION_DAYS) still count in the totals
        archived = await archived_totals(self.store.db, ctx.tenant, ctx.user)
        per_module = dict(summary.per_module)
        for module, (c, n) in archived.items():
            old_c, old_n = per_module.get(module, (0, 0))
            per_module[module] = (old_c + c, old_n + n)
        total = summary.total + sum(n for _, n in archived.values())
        correct = summary.correct + sum(c for c, _ in archived.values())
        accuracy = f"{_percent(correct, total)} %" if total else "–"
        current, best = streaks(set(summary.days), now.date())
        due_today = sum(1 for c in cards if c.due <= end_of_day(now))
        if due_today:
            due_text = f"{due_today} due today (`review`)"
        elif cards:
            due_text = f"none today; next on {min(c.due for c in cards):%a %d %b}"
        else:
            due_text = "none yet"
        monday = week_start(now)
        this_week = await self.history.counts(ctx.tenant, ctx.user, monday,
                                              monday + timedelta(days=7))
        last_week = await self.history.counts(ctx.tenant, ctx.user,
                                              monday - timedelta(days=7), monday)
        lines = [f"**Your progress, {escape_md(ctx.user_name or ctx.user)}**",
                 f"Answered: **{total}** · correct: **{correct}** · "
                 f"accuracy: **{accuracy}**",
                 trend_line(this_week, last_week),
                 f"Streak: **{current}** day{'s' if current != 1 else ''} "
                 f"(best {best})",
                 f"Reviews: {due_text}"]
        for section in self.extra_sections:
            lines += await section(ctx.tenant, ctx.user)
        lines += await self._exam_lines(ctx.tenant, ctx.user, now)
        # Replies show `text` before `fields`: this header must be the text's last line.
        lines.append(f"**By module**: accuracy · mastery (the chance you still remember its "
                     f"questions in a week; shown from {MASTERY_MIN_QUESTIONS} questions "
                     "answered) · weakest section")
        fields = await self._module_fields(ctx.tenant, ctx.user, per_module, cards, now)
        return [Reply("\n".join(lines), fields=tuple(fields), private=True)]

    async def _exam_lines(self, tenant: str, user: str, now: datetime) -> list[str]:
        exams = await self.history.past_exams(tenant, user, now, limit=EXAMS_SHOWN)
        if not exams:
            return ["Exams: none yet (`exam 10` for a short practice exam)"]
        return ["**Recent exams**", *(exam_line(self.kb, e) for e in exams)]

    async def _module_fields(self, tenant: str, user: str,
                             per_module: dict[str, tuple[int, int]], cards: list[CardRow],
                             now: datetime) -> list[Field]:
        recall: dict[str, list[float]] = defaultdict(list)
        for card in cards:
            module = self.kb.module_of(self.kb.questions[card.item_id].section)
            recall[module].append(retrievability(card.card, now + MASTERY_AHEAD))
        weakest = self._weakest_sections(await self.history.per_question(tenant, user))
        fields = []
        for module in dict.fromkeys(s.module for s in self.kb.sections):
            c, n = per_module.get(module, (0, 0))
            acc = f"{bar(c / n)} {round(100 * c / n):>3} %" if n else f"{bar(0)}   – "
            values = recall.get(module, [])
            mastery = (f"{round(100 * sum(values) / len(values))} %"
                       if len(values) >= MASTERY_MIN_QUESTIONS else "–")
            value = f"{acc} · mastery {mastery} ({n} answered)"
            if module in weakest:
                name, right, answered = weakest[module]
                value += f" · weakest: {name} ({right} of {answered} right)"
            fields.append(Field(module, value))
        return fields

    def _weakest_sections(self, per_question: dict[str, tuple[int, int]]
                          ) -> dict[str, tuple[str, int, int]]:
        """module -> (section, right, answered): the section with the lowest accuracy among
        those with a wrong answer (more answers first on a tie)."""
        per_section: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for qid, (c, n) in per_question.items():
            question = self.kb.questions.get(qid)
            if question is not None:
                per_section[question.section][0] += c
                per_section[question.section][1] += n
        weakest: dict[str, tuple[str, int, int]] = {}
        ordered = sorted(((name, c, n) for name, (c, n) in per_section.items() if c < n),
                         key=lambda s: (s[1] / s[2], -s[2], s[0]))
        for name, c, n in ordered:
            weakest.setdefault(self.kb.module_of(name), (name, c, n))
        return weakest

    # -- leaderboard ------------------------------------------------------------------------

    async def cmd_leaderboard(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        now = self.clock()
        week_entries = await self.history.practice_scores(ctx.tenant, week_start(now))
        all_entries = await self.history.practice_scores(ctx.tenant, None)
        week, all_time = rank(week_entries), rank(all_entries)

        def mine(entries: list[PracticeScore]) -> PracticeScore | None:
            return next((e for e in entries if e.user_id == ctx.user), None)

        if same_board(week, all_time) and mine(week_entries) == mine(all_entries):
            blocks = [("This week and all time", week, week_entries)]
        else:
            blocks = [("This week", week, week_entries), ("All time", all_time, all_entries)]
        lines = ["**Leaderboard**",
                 f"_Score: questions answered right (each counts once a day) × accuracy², so "
                 f"careful practice spread over days beats volume. Top {TOP} shown; it takes "
                 f"{MIN_ANSWERS} answers to be ranked._"]
        you = ctx.user if ctx.direct else None
        own: list[str] = []
        for title, ranked, entries in blocks:
            lines.append(f"**{title}**")
            lines += top_lines(ranked, you)
            place = own_place(ranked, entries, ctx.user)
            if ctx.direct:
                if not any(r.entry.user_id == ctx.user for r in ranked[:TOP]):
                    lines.append(place)
            else:
                own.append(f"**{title}** · {place}")
        if ctx.direct:
            return [Reply("\n".join(lines))]
        return [Reply("\n".join(lines)),
                Reply("\n".join(["**Your place on the leaderboard**", *own]), private=True)]
