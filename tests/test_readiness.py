"""Readiness: the `ready` estimate with its evidence, and never "ready" on a handful of answers."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.home import dashboard
from bot.knowledge import KnowledgeBase
from bot.model import Reply
from bot.quiz import memory
from bot.quiz.readiness import (
    NO_EVIDENCE,
    NOT_YET,
    READY,
    Bank,
    Evidence,
    ReadinessFeature,
    estimate,
)
from bot.store.database import Database
from bot.store.quizstore import QuizStore
from bot.store.teamstore import CardState, ExamRecord, TeamStore
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat, shown_question_id

ANSWER = "quiz.answer"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def core(kb: KnowledgeBase, db: Database, clock: Clock) -> Core:
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(11),
                      clock=clock)
    ReadinessFeature(kb, TeamStore(db), clock, pass_mark=70).register(core.router)
    return core


@pytest.fixture()
def chat(core: Core) -> FakeChat:
    return FakeChat(core.router)


def text_of(replies: list[Reply]) -> str:
    parts = []
    for reply in replies:
        parts.append(reply.text)
        parts += [f"{f.label}: {f.value}" for f in reply.fields]
    return "\n".join(parts)


async def answer(chat: FakeChat, db: Database, kb: KnowledgeBase, reply: Reply, right: bool,
                 user: str = "alice") -> list[Reply]:
    """Press what a learner who knows (or not) the answer would press, as many times as the
    question needs; the replies after the last press."""
    showing = await QuizStore(db).get_showing(shown_question_id(reply))
    assert showing is not None
    question = kb.questions[showing.question_id]
    options = [int(c.value.split(":")[1]) for c in reply.choices if c.action_id == ANSWER]
    wanted = [o for o in options if o in question.answer] if right else \
        [next(o for o in options if o not in question.answer)]
    if not right and question.kind == "multiple":
        wanted += [o for o in options if o in question.answer][:len(question.answer) - 1]
    replies: list[Reply] = []
    for option in wanted:
        press = next(c for c in (replies[0].choices if replies else reply.choices)
                     if c.action_id == ANSWER and c.value == f"{showing.id}:{option}")
        replies = await chat.click(press, user=user)
    return replies


async def master_the_bank(db: Database, kb: KnowledgeBase, user: str, now: datetime) -> None:
    """Every question's card reviewed right three times, spaced over three weeks, and one
    answer recorded per question (through the store the quiz itself uses; one transaction per
    question keeps the test fast)."""
    days = (20, 9, 1)
    when = now - timedelta(days=days[-1])
    fixed = Clock()
    fixed.now = when
    store = QuizStore(db, clock=fixed)

    def good(card: dict[str, Any] | None) -> tuple[dict[str, Any], datetime]:
        due = now
        for ago in days:
            card, due = memory.review(card, memory.Rating.Good, now - timedelta(days=ago))
        assert card is not None
        return card, due

    await store.touch_user("T1", user, user)
    for question in kb.questions.values():
        order = list(range(len(question.options)))
        showing = await store.show("T1", user, question.id, "quiz", order)
        await store.record_answer(showing, question.answer, True,
                                  kb.module_of(question.section), None, None, when, review=good)


async def take_exam(chat: FakeChat, db: Database, kb: KnowledgeBase, right: bool,
                    user: str = "alice", n: int = 25) -> list[Reply]:
    replies = await chat.push(f"exam {n}", user=user)
    assert "Practice exam" in replies[0].text
    for _ in range(n):
        question = next(r for r in replies if any(c.action_id == ANSWER for c in r.choices))
        replies = await answer(chat, db, kb, question, right, user)
    assert "Exam finished" in replies[0].text
    return replies


# -- the `ready` command ----------------------------------------------------------------------

async def test_five_right_answers_are_not_enough_evidence(
        chat: FakeChat, db: Database, kb: KnowledgeBase) -> None:
    for _ in range(5):
        [question] = await chat.push("quiz storage")
        await answer(chat, db, kb, question, right=True)

    replies = await chat.push("ready")
    shown = text_of(replies)
    assert "not enough evidence yet" in shown
    assert "**ready**" not in shown, "never ready on a handful of answers"
    assert f"Evidence: 5 answers on 5 of {len(kb.questions)} questions (2 %), " \
           "0 practice exams in the last 30 days" in shown
    assert "low confidence" in shown
    # a per-module estimate with its evidence, for every module of the course
    modules = list(dict.fromkeys(s.module for s in kb.sections))
    assert [f.label for f in replies[0].fields] == modules
    core_tech = next(f.value for f in replies[0].fields if f.label == "Core technologies")
    assert re.search(r"\d+ % · \d+/146 seen \(\d+ %\) · \d+ answers", core_tech)
    # the estimate counts unseen questions at about the guess rate, not as known
    percent = int(re.search(r"\*\*(\d+) %\*\* predicted", shown).group(1))  # type: ignore[union-attr]
    assert 15 <= percent <= 35
    # what to do next, with buttons
    assert "Practise **Core technologies**" in shown and "Take a practice exam" in shown
    labels = [c.label for r in replies for c in r.choices]
    assert any(label.startswith("Quiz: ") for label in labels) and "Practice exam" in labels
    quiz_button = next(c for r in replies for c in r.choices if c.label.startswith("Quiz: "))
    [question] = await chat.click(quiz_button)
    assert quiz_button.value.removeprefix("quiz ") in question.text, "quizzes the weakest section"


async def test_mastered_bank_needs_an_exam_then_is_ready(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    await master_the_bank(db, kb, "alice", clock.now)
    shown = text_of(await chat.push("ready"))
    assert "not enough evidence yet" in shown, "no recent practice exam: no verdict yet"
    assert "Take a practice exam of the whole course with at least 20 questions" in shown
    before = int(re.search(r"\*\*(\d+) %\*\* predicted", shown).group(1))  # type: ignore[union-attr]
    assert before >= 90

    scorecard, _missed = await take_exam(chat, db, kb, right=True)
    assert "PASS" in scorecard.text
    replies = await chat.push("ready")
    shown = text_of(replies)
    assert "**ready**" in shown and "high confidence" in shown
    assert "1 practice exam in the last 30 days (1 of the whole course" in shown
    assert "Practice exam" not in [c.label for r in replies for c in r.choices]


async def test_a_failed_recent_exam_says_not_yet(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    await master_the_bank(db, kb, "alice", clock.now)
    scorecard, _missed = await take_exam(chat, db, kb, right=False, n=20)
    assert "FAIL" in scorecard.text
    shown = text_of(await chat.push("ready"))
    assert "**not yet ready**" in shown
    assert "Your last practice exam scored 0 % (pass mark 70 %)" in shown


async def test_stats_line_and_app_home_block(
        core: Core, chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    [question] = await chat.push("quiz")
    await answer(chat, db, kb, question, right=False)
    feature = ReadinessFeature(kb, TeamStore(db), clock)
    [line] = await feature.stats_lines("T1", "alice")
    assert line.startswith("**Readiness**: **") and "not enough evidence yet" in line
    assert "`ready`" in line

    home = await dashboard(core.router, chat.context("alice"))
    block = next(r for r in home if r.text.startswith("**Readiness for the accreditation**"))
    assert "Evidence: 1 answer on 1 of" in block.text and "Next: Practise" in block.text
    assert "Readiness details" in [c.label for c in block.choices]
    assert home[-1].text.startswith("**Study now**")


# -- the model on its own -----------------------------------------------------------------------

def _cards(kb: KnowledgeBase, ids: list[str], when: datetime, reviews: int = 3) -> dict[str, CardState]:
    out = {}
    for qid in ids:
        card, due = None, when
        for step in range(reviews):
            card, due = memory.review(card, memory.Rating.Good, when - timedelta(days=3 * (reviews - step)))
        assert card is not None
        out[qid] = CardState(card, due)
    return out


def _exam(kb: KnowledgeBase, finished: datetime, right: bool, scope: str = "",
          n: int = 25) -> ExamRecord:
    ids = tuple(list(kb.questions)[:n])
    return ExamRecord("e1", "u", scope, ids, 70, finished, frozenset(ids if right else ()))


def test_nothing_seen_is_the_guess_rate_with_a_wide_range(kb: KnowledgeBase) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    reading = estimate(Bank.from_kb(kb), Evidence({}, {}, ()), now, 70)
    assert reading.verdict == NO_EVIDENCE and reading.confidence == "low"
    assert 0.15 < reading.score < 0.35, "unseen questions count at about 1 in 4, not as known"
    assert reading.low == reading.score < reading.high == 1.0, "nothing measured: could be anything"
    assert abs(sum(m.weight for m in reading.modules) - 1) < 1e-9
    weights = {m.module: m.weight for m in reading.modules}
    assert weights["Core technologies"] == 146 / len(kb.questions)


def test_only_recent_whole_course_exams_count(kb: KnowledgeBase) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    bank = Bank.from_kb(kb)
    cards = _cards(kb, list(kb.questions), now)
    answers = {m: (40, 40) for m in bank.modules}
    ready = estimate(bank, Evidence(cards, answers, (_exam(kb, now - timedelta(days=2), True),)),
                     now, 70)
    assert ready.verdict == READY
    for exams in ((_exam(kb, now - timedelta(days=31), True),),  # too old
                  (_exam(kb, now - timedelta(days=2), True, scope="storage"),),  # one topic
                  (_exam(kb, now - timedelta(days=2), True, n=10),)):  # too short
        assert estimate(bank, Evidence(cards, answers, exams), now, 70).verdict == NO_EVIDENCE
    failed = (_exam(kb, now - timedelta(days=9), True), _exam(kb, now - timedelta(days=2), False))
    assert estimate(bank, Evidence(cards, answers, failed), now, 70).verdict == NOT_YET


def test_a_module_barely_practised_blocks_the_verdict(kb: KnowledgeBase) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    bank = Bank.from_kb(kb)
    partner = set(bank.questions["Partner network"])
    ids = [q for q in kb.questions if q not in partner]
    answers = {m: (40, 40) for m in bank.modules if m != "Partner network"}
    answers["Partner network"] = (2, 2)
    seen_two = ids + sorted(partner)[:2]
    reading = estimate(bank, Evidence(_cards(kb, seen_two, now), answers,
                                      (_exam(kb, now - timedelta(days=1), True),)), now, 70)
    assert reading.verdict == NO_EVIDENCE
    assert [m.module for m in reading.short_modules] == ["Partner network"]
    assert reading.sections[0].module == "Partner network", "its unseen sections are weakest"
