"""Readiness for the accreditation: a predicted score per module, with its evidence and range.

The model (see docs/readiness.md): the chance of answering a question right is
`r + (1 - r) * g`, where `r` is the FSRS retrievability of the learner's card a week from now
(0 for a question never seen) and `g` the chance of guessing it (1/4 for a four-option question, 1/2
for true/false, 1/C(n, k) for "pick k of n"). A module's memory estimate is the mean over every
question of the module's bank, so unseen questions count at the guess rate, never as known.
Finished practice exams of the last 30 days are blended in (each exam question counts once,
the memory estimate as `EXAM_PRIOR` questions). Modules are weighted by their share of the
bank. The verdict is "ready" only past a minimum of evidence; below it, "not enough evidence".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.durations import plural
from bot.home import RUN_ACTION, add_home_block
from bot.knowledge.schema import KnowledgeBase, Question
from bot.model import Choice, Context, Field, Message, Reply
from bot.quiz.memory import retrievability
from bot.router import Router
from bot.store.database import utcnow
from bot.store.teamstore import CardState, Counts, ExamRecord, TeamStore
from bot.text import bar, escape_md

HORIZON = timedelta(days=7)  # recall is read a week ahead: right after a review it is 1.0 even
# for a question just answered wrong, and the exam is not taken the same minute
RECENT = timedelta(days=30)  # exams older than this say nothing about readiness now
MIN_SEEN_SHARE = 0.6  # per module: at least this share of its questions seen ...
MIN_MODULE_ANSWERS = 15  # ... or at least this many answers in it
MIN_EXAM_QUESTIONS = 20  # a practice exam this long (whole course) counts as exam evidence
EXAM_PRIOR = 20  # when blending, the memory estimate weighs as much as this many exam questions
Z = 1.96  # about 95 % for the range
MIN_VARIANCE = 0.04  # p(1-p) never below this: a perfect record still leaves some doubt
WEAKEST = 3
WEAK_BELOW = 0.9  # a practised section predicted at or above this is not called weak

READY = "ready"
NOT_YET = "not yet"
NO_EVIDENCE = "not enough evidence"

Clock = Callable[[], datetime]


def guess_rate(question: Question) -> float:
    """The chance of getting a question right by guessing among its options."""
    n = max(len(question.options), 1)
    if question.kind == "multiple":
        return 1 / math.comb(n, max(len(question.answer), 1))
    return 1 / n


@dataclass(frozen=True)
class Bank:
    """The question bank as readiness sees it: modules in course order, their questions."""

    modules: tuple[str, ...]
    questions: Mapping[str, tuple[str, ...]]  # module -> question ids
    module_of: Mapping[str, str]  # question id -> module
    section_of: Mapping[str, str]  # question id -> section
    guess: Mapping[str, float]  # question id -> guess rate

    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> Bank:
        modules = tuple(dict.fromkeys(s.module for s in kb.sections))
        by_module: dict[str, list[str]] = defaultdict(list)
        module_of, section_of, guess = {}, {}, {}
        for question in kb.questions.values():
            module = kb.module_of(question.section)
            if not module:
                continue
            by_module[module].append(question.id)
            module_of[question.id] = module
            section_of[question.id] = question.section
            guess[question.id] = guess_rate(question)
        kept = tuple(m for m in modules if by_module.get(m))
        return cls(kept, {m: tuple(by_module[m]) for m in kept}, module_of, section_of, guess)

    @property
    def size(self) -> int:
        return sum(len(q) for q in self.questions.values())


@dataclass(frozen=True)
class Evidence:
    """What one learner has done: cards (question id -> card), answers per module (all time)
    and finished practice exams (any age; the model keeps the recent ones)."""

    cards: Mapping[str, CardState]
    answers: Counts
    exams: tuple[ExamRecord, ...]


@dataclass(frozen=True)
class ModuleEstimate:
    """The predicted score in one module and what it rests on (scores are 0-1)."""

    module: str
    questions: int
    seen: int
    answers: int
    exam_questions: int
    exam_right: int
    score: float
    low: float
    high: float
    weight: float

    @property
    def seen_share(self) -> float:
        return self.seen / self.questions if self.questions else 0.0

    @property
    def enough(self) -> bool:
        """The minimum of evidence: most of the module seen, or a fair number of answers."""
        return self.seen_share >= MIN_SEEN_SHARE or self.answers >= MIN_MODULE_ANSWERS

    @property
    def seen_needed(self) -> int:
        return max(0, math.ceil(MIN_SEEN_SHARE * self.questions) - self.seen)


@dataclass(frozen=True)
class SectionEstimate:
    """The predicted score in one section (0-1)."""

    section: str
    module: str
    questions: int
    seen: int
    score: float


@dataclass(frozen=True)
class Readiness:
    """The whole estimate: overall and per module, the verdict and what it rests on."""

    score: float
    low: float
    high: float
    confidence: str  # low | medium | high
    verdict: str  # READY | NOT_YET | NO_EVIDENCE
    pass_mark: int
    modules: tuple[ModuleEstimate, ...]
    sections: tuple[SectionEstimate, ...]  # weakest first
    answers: int
    seen: int
    questions: int
    recent_exams: tuple[ExamRecord, ...]  # finished in the last 30 days, oldest first
    qualifying_exams: tuple[ExamRecord, ...]  # of those: whole course, >= 20 questions
    due_today: int

    @property
    def percent(self) -> int:
        return round(100 * self.score)

    @property
    def range_text(self) -> str:
        return f"{round(100 * self.low)}–{round(100 * self.high)} %"

    @property
    def weakest(self) -> tuple[SectionEstimate, ...]:
        """Up to three sections to work on: practised ones predicted below 90 %, lowest first,
        then sections not started yet, the biggest first."""
        return weakest_sections(self.sections)

    @property
    def latest_exam(self) -> ExamRecord | None:
        return self.qualifying_exams[-1] if self.qualifying_exams else None

    @property
    def short_modules(self) -> tuple[ModuleEstimate, ...]:
        """Modules below the minimum of evidence."""
        return tuple(m for m in self.modules if not m.enough)


def chance_right(recall: float, guess: float) -> float:
    """Right when recalled, or when a failed recall still guesses right."""
    return recall + (1 - recall) * guess


def _margin(rate: float, n: int) -> float:
    """About 95 % of the sampling error of a rate measured on `n` questions."""
    return Z * math.sqrt(max(rate * (1 - rate), MIN_VARIANCE) / max(n, 1))


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _blend(memory: float, exam_right: int, exam_n: int) -> float:
    return (EXAM_PRIOR * memory + exam_right) / (EXAM_PRIOR + exam_n)


def end_of_day(now: datetime) -> datetime:
    """'Due today' means due before the end of `now`'s UTC day (as in `stats`)."""
    return now.replace(hour=23, minute=59, second=59, microsecond=0)


def estimate(bank: Bank, evidence: Evidence, now: datetime, pass_mark: int = 70) -> Readiness:
    """The readiness of one learner at `now` against `pass_mark` (percent)."""
    # chance of a right answer per question seen: recall, or a guess when recall fails
    then = now + HORIZON
    known = {qid: chance_right(retrievability(state.card, then), bank.guess[qid])
             for qid, state in evidence.cards.items() if qid in bank.module_of}
    recent = tuple(e for e in evidence.exams if now - e.finished_at <= RECENT)
    qualifying = tuple(e for e in recent if e.scope == "" and e.total >= MIN_EXAM_QUESTIONS)
    exam_asked: dict[str, int] = defaultdict(int)
    exam_right: dict[str, int] = defaultdict(int)
    for exam in recent:
        for qid in exam.question_ids:
            module = bank.module_of.get(qid)
            if module is not None:
                exam_asked[module] += 1
                exam_right[module] += qid in exam.right_ids

    size = bank.size
    modules = []
    down: list[float] = []  # per module: weighted sampling error of what was measured
    optimistic_total = 0.0
    for module in bank.modules:
        ids = bank.questions[module]
        seen = [known[q] for q in ids if q in known]
        seen_level = sum(seen) / len(seen) if seen else 1.0  # nothing seen: could be anything
        pessimistic = sum(known.get(q, bank.guess[q]) for q in ids) / len(ids)
        optimistic = sum(known.get(q, max(bank.guess[q], seen_level)) for q in ids) / len(ids)
        n_exam, right = exam_asked[module], exam_right[module]
        score = _blend(pessimistic, right, n_exam)
        high = _blend(optimistic, right, n_exam)
        # the unseen questions are the range between `score` and `high`; what was measured
        # (recall of the seen ones, the exam answers) adds its own sampling error on both sides
        error = (EXAM_PRIOR * len(seen) / len(ids) * _margin(seen_level, len(seen)) if seen
                 else 0.0)
        if n_exam:
            error += n_exam * _margin(right / n_exam, n_exam)
        error /= EXAM_PRIOR + n_exam
        answered = evidence.answers.get(module, (0, 0))[1]
        weight = len(ids) / size
        modules.append(ModuleEstimate(module, len(ids), len(seen), answered, n_exam, right,
                                      score, _clip(score - error), _clip(high + error), weight))
        down.append(weight * error)
        optimistic_total += weight * high

    score = sum(m.weight * m.score for m in modules)
    error = math.sqrt(sum(e * e for e in down))  # modules are measured independently
    low, high = _clip(score - error), _clip(optimistic_total + error)

    sections = _sections(bank, known)
    enough = all(m.enough for m in modules) and bool(qualifying)
    if not enough:
        verdict = NO_EVIDENCE
    elif 100 * score >= pass_mark and qualifying[-1].percent >= pass_mark:
        verdict = READY
    else:
        verdict = NOT_YET
    width = high - low
    confidence = "low" if not enough or width > 0.25 else "medium" if width > 0.10 else "high"
    due = sum(1 for qid, state in evidence.cards.items()
              if qid in bank.module_of and state.due <= end_of_day(now))
    return Readiness(score, low, high, confidence, verdict, pass_mark, tuple(modules), sections,
                     sum(n for _, n in evidence.answers.values()), len(known), size, recent,
                     qualifying, due)


def _sections(bank: Bank, known: Mapping[str, float]) -> tuple[SectionEstimate, ...]:
    """Every section with questions, lowest predicted score first (more questions first on a
    tie: more is at stake there)."""
    by_section: dict[str, list[str]] = defaultdict(list)
    for qid, section in bank.section_of.items():
        by_section[section].append(qid)
    out = [SectionEstimate(section, bank.module_of[ids[0]], len(ids),
                           sum(1 for q in ids if q in known),
                           sum(known.get(q, bank.guess[q]) for q in ids) / len(ids))
           for section, ids in by_section.items()]
    out.sort(key=lambda s: (round(s.score, 6), -s.questions, s.section))
    return tuple(out)


def weakest_sections(sections: Iterable[SectionEstimate],
                     n: int = WEAKEST) -> tuple[SectionEstimate, ...]:
    """Practised sections below `WEAK_BELOW` (lowest first), then unstarted ones (biggest
    first): a section never practised is a gap, not a measured weakness, so it comes after."""
    practised = sorted((s for s in sections if s.seen and s.score < WEAK_BELOW),
                       key=lambda s: (round(s.score, 6), -s.questions, s.section))
    unstarted = sorted((s for s in sections if not s.seen),
                       key=lambda s: (-s.questions, s.section))
    return tuple((practised + unstarted)[:n])


def team_weakest(readings: Iterable[Readiness], n: int = WEAKEST) -> tuple[SectionEstimate, ...]:
    """The sections a team is weakest in: per section, the mean predicted score of the
    learners who practised it (`seen` is how many did), chosen as for one learner."""
    scores: dict[str, list[float]] = defaultdict(list)
    info: dict[str, SectionEstimate] = {}
    for reading in readings:
        for section in reading.sections:
            info.setdefault(section.section, section)
            if section.seen:
                scores[section.section].append(section.score)
    team = [SectionEstimate(name, s.module, s.questions, len(scores.get(name, ())),
                            sum(scores[name]) / len(scores[name]) if scores.get(name) else 0.0)
            for name, s in info.items()]
    return weakest_sections(team, n)


# -- words ----------------------------------------------------------------------------------

def verdict_text(reading: Readiness) -> str:
    return {READY: "ready", NOT_YET: "not yet ready",
            NO_EVIDENCE: "not enough evidence yet"}[reading.verdict]


def evidence_text(reading: Readiness) -> str:
    share = round(100 * reading.seen / reading.questions) if reading.questions else 0
    exams = len(reading.recent_exams)
    qualifying = len(reading.qualifying_exams)
    exam_text = (f"{exams} practice exam{'s' if exams != 1 else ''} in the last 30 days"
                 + (f" ({qualifying} of the whole course with {MIN_EXAM_QUESTIONS}+ questions)"
                    if exams else ""))
    return (f"{reading.answers} answer{'s' if reading.answers != 1 else ''} on "
            f"{reading.seen} of {reading.questions} questions ({share} %), {exam_text}")


def next_steps(reading: Readiness) -> list[str]:
    """What to do to improve the estimate or the evidence, most useful first."""
    steps = []
    for module in reading.short_modules:
        steps.append(f"Practise **{module.module}**: {module.seen} of {module.questions} "
                     f"questions seen ({round(100 * module.seen_share)} %). The estimate needs "
                     f"{round(100 * MIN_SEEN_SHARE)} % seen ({module.seen_needed} more) or "
                     f"{MIN_MODULE_ANSWERS} answers ({module.answers} so far).")
    latest = reading.latest_exam
    if latest is None:
        steps.append(f"Take a practice exam of the whole course with at least "
                     f"{MIN_EXAM_QUESTIONS} questions (`exam`): none in the last 30 days.")
    elif latest.percent < reading.pass_mark:
        steps.append(f"Your last practice exam scored {latest.percent} % (pass mark "
                     f"{reading.pass_mark} %): work on the weakest sections, then try `exam` "
                     "again.")
    if reading.weakest and reading.verdict != READY:
        names = ", ".join(escape_md(s.section) for s in reading.weakest)
        steps.append(f"Quiz your weakest sections: {names}.")
    if reading.due_today:
        steps.append(f"Do your {reading.due_today} review{'s' if reading.due_today != 1 else ''}"
                     " due today (`review`): they keep what you know fresh.")
    if reading.verdict == READY:
        steps.append("Keep it fresh: do your reviews when they are due, and take one more "
                     "practice exam shortly before the real one.")
    return steps


def next_buttons(reading: Readiness) -> tuple[Choice, ...]:
    buttons = []
    if reading.weakest and reading.verdict != READY:
        section = reading.weakest[0].section
        buttons.append(Choice(RUN_ACTION, f"Quiz: {section}", f"quiz {section}"))
    if reading.due_today:
        buttons.append(Choice(RUN_ACTION, "Review what's due", "review"))
    latest = reading.latest_exam
    if latest is None or latest.percent < reading.pass_mark:
        buttons.append(Choice(RUN_ACTION, "Practice exam", "exam"))
    return tuple(buttons)


def summary_line(reading: Readiness) -> str:
    """One line: the estimate, its range and confidence, the verdict."""
    return (f"**{reading.percent} %** predicted (likely {reading.range_text}, "
            f"{reading.confidence} confidence): **{verdict_text(reading)}**")


def readiness_reply(reading: Readiness, name: str) -> list[Reply]:
    """The `ready` answer: overall, per module with evidence, weakest sections, next steps."""
    lines = [f"**Readiness for the accreditation, {escape_md(name)}**",
             f"{summary_line(reading)} · pass mark {reading.pass_mark} %",
             f"Evidence: {evidence_text(reading)}."]
    if reading.verdict == NO_EVIDENCE:
        lines.append("_I won't call you ready on this little evidence; the steps below get "
                     "you there._")
    lines.append("**By module** (weighted by its share of the questions): predicted score · "
                 "questions seen · answers")
    fields = tuple(Field(m.module, f"{bar(m.score)} {round(100 * m.score):>3} % · "
                                   f"{m.seen}/{m.questions} seen ({round(100 * m.seen_share)} %)"
                                   f" · {plural(m.answers, 'answer')}"
                                   + (f" · exams {m.exam_right}/{m.exam_questions}"
                                      if m.exam_questions else ""))
                   for m in reading.modules)
    footer = ["**Weakest sections**"]
    footer += [f"- {escape_md(s.module)} › {escape_md(s.section)}: "
               + (f"{round(100 * s.score)} % ({s.seen}/{s.questions} seen)" if s.seen
                  else f"not started ({s.questions} questions)")
               for s in reading.weakest]
    if not reading.weakest:
        footer.append(f"- none: every section is predicted at {round(100 * WEAK_BELOW)} % or "
                      "more")
    footer.append("**What to do next**")
    footer += [f"- {step}" for step in next_steps(reading)]
    return [Reply("\n".join(lines), fields=fields, private=True),
            Reply("\n".join(footer), choices=next_buttons(reading), private=True)]


class ReadinessFeature:
    """The `ready` command, its line in `stats` and its block in the App Home."""

    def __init__(self, kb: KnowledgeBase, store: TeamStore, clock: Clock = utcnow,
                 pass_mark: int = 70) -> None:
        self.kb = kb
        self.store = store
        self.clock = clock
        self.pass_mark = pass_mark
        self._bank: tuple[int, Bank] | None = None

    @property
    def bank(self) -> Bank:
        """Built once per knowledge base (a reload brings a new one)."""
        if self._bank is None or self._bank[0] != id(self.kb.questions):
            self._bank = (id(self.kb.questions), Bank.from_kb(self.kb))
        return self._bank[1]

    def register(self, router: Router) -> None:
        router.command("ready", "ready", "how ready you are for the accreditation, and what next",
                       self.cmd_ready)
        add_home_block(router, self.home_block)

    async def reading(self, tenant: str, user: str) -> Readiness:
        """One learner's readiness now."""
        cards = (await self.store.cards(tenant, user)).get(user, {})
        answers = (await self.store.answer_counts(tenant, user=user)).get(user, {})
        exams = (await self.store.finished_exams(tenant, user)).get(user, [])
        return estimate(self.bank, Evidence(cards, answers, tuple(exams)), self.clock(),
                        self.pass_mark)

    async def cmd_ready(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        reading = await self.reading(ctx.tenant, ctx.user)
        return readiness_reply(reading, ctx.user_name or ctx.user)

    async def stats_lines(self, tenant: str, user: str) -> list[str]:
        """For `stats`: the estimate in one line, and where to see more."""
        reading = await self.reading(tenant, user)
        return [f"**Readiness**: {summary_line(reading)}. `ready` shows the evidence and what "
                "to do next."]

    async def home_block(self, ctx: Context) -> list[Reply]:
        """For the App Home: the estimate, the evidence and the next steps' buttons."""
        reading = await self.reading(ctx.tenant, ctx.user)
        steps = next_steps(reading)
        lines = [f"**Readiness for the accreditation**: {summary_line(reading)}",
                 f"Evidence: {evidence_text(reading)}."]
        if steps:
            lines.append(f"Next: {steps[0]}")
        buttons = next_buttons(reading) + (Choice(RUN_ACTION, "Readiness details", "ready"),)
        return [Reply("\n".join(lines), choices=buttons, private=True)]
