"""Practice exams, stats and the leaderboard, including surviving a restart."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.quiz.progress import streaks
from bot.store.database import Database
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat
from tests.test_quiz import Clock, answer_choice, question_of


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def new_chat(kb: KnowledgeBase, db: Database, clock: Clock, pass_mark: int = 70) -> FakeChat:
    settings = Settings(knowledge_dir=KNOWLEDGE, exam_pass_mark=pass_mark)
    return FakeChat(build_core(settings, kb, db=db, rng=random.Random(3), clock=clock).router)


async def answer(chat: FakeChat, db: Database, kb: KnowledgeBase, correct: bool):  # type: ignore[no-untyped-def]
    """Answer the question on screen completely (all picks of a multiple select)."""
    reply = chat.last[-1]
    replies = await chat.click(await answer_choice(db, kb, reply, correct))
    while replies and "one button at a time" in replies[-1].text and "to go" in replies[-1].text \
            and await question_of(db, replies[-1]) == await question_of(db, reply):
        replies = await chat.click(await answer_choice(db, kb, replies[-1], True))
    return replies


async def test_exam_gives_no_feedback_until_the_end_then_a_scorecard(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    intro, first = await chat.push("exam 4")
    assert "4 questions" in intro.text and "Pass mark 70 %" in intro.text
    assert first.text.startswith("**Exam question 1 of 4**")
    seen = [await question_of(db, first)]
    results = [True, False, True, True]
    for number, correct in enumerate(results, start=1):
        replies = await answer(chat, db, kb, correct)
        if number < 4:
            [nxt] = replies
            assert nxt.text.startswith(f"**Exam question {number + 1} of 4**")
            assert "Correct" not in nxt.text and "Not quite" not in nxt.text
            seen.append(await question_of(db, nxt))
    scorecard, missed = replies
    assert scorecard.text.startswith("**Exam finished: 3/4 (75 %), PASS** (pass mark 70 %)")
    assert sum(int(f.value.split()[-1].split("/")[1]) for f in scorecard.fields) == 4
    wrong = kb.questions[seen[1]]
    assert wrong.explanation in missed.text
    assert kb.questions[seen[0]].explanation not in missed.text


async def test_exam_pass_mark_is_configurable(kb: KnowledgeBase, db: Database,
                                             clock: Clock) -> None:
    chat = new_chat(kb, db, clock, pass_mark=80)
    await chat.push("exam 1")
    scorecard, _ = await answer(chat, db, kb, correct=False)
    assert "0/1 (0 %), FAIL** (pass mark 80 %)" in scorecard.text


async def test_exam_survives_a_restart_and_can_be_resumed_or_abandoned(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    await chat.push("exam 3 storage")
    await answer(chat, db, kb, correct=True)
    second = await question_of(db, chat.last[-1])

    restarted = new_chat(kb, db, clock)  # a new process on the same database
    [prompt] = await restarted.push("exam")
    assert "exam in progress (question 2 of 3)" in prompt.text
    [resumed] = await restarted.click(restarted.choice("Resume exam"))
    assert resumed.text.startswith("**Exam question 2 of 3**")
    assert await question_of(db, resumed) == second
    [gone] = await restarted.push("exam abandon")
    assert "abandoned after 1 of 3" in gone.text
    [none] = await restarted.push("exam resume")
    assert "no exam in progress" in none.text


async def test_time_limit_ends_the_exam_and_counts_unanswered_as_wrong(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    intro, _ = await chat.push("exam 3 10m")
    assert "10 minutes" in intro.text
    clock.now += timedelta(minutes=11)
    scorecard, _ = await answer(chat, db, kb, correct=True)
    assert scorecard.text.startswith("⏰ **Time's up.**"), "a late answer earns nothing"
    assert "0/3" in scorecard.text and "Time ran out: 3 unanswered" in scorecard.text


async def test_stats_move_with_answers_and_survive_a_restart(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [empty] = await chat.push("stats")
    assert "Answered: **0**" in empty.text and "Streak: **0** days" in empty.text
    await chat.push("quiz Amazon S3")
    await answer(chat, db, kb, correct=True)
    await chat.push("quiz Amazon S3")
    await answer(chat, db, kb, correct=False)
    clock.now += timedelta(days=1)
    await chat.push("quiz Amazon S3")
    await answer(chat, db, kb, correct=True)
    [stats] = await chat.push("stats")
    assert "Answered: **3** · correct: **2** · accuracy: **67 %**" in stats.text
    assert "Streak: **2** days (best 2)" in stats.text
    core_tech = next(f for f in stats.fields if f.label == "Core technologies")
    assert "67 %" in core_tech.value and "(3 answered)" in core_tech.value
    assert "mastery" in core_tech.value and "mastery –" not in core_tech.value

    [again] = await new_chat(kb, db, clock).push("stats")
    assert again.text == stats.text and again.fields == stats.fields


def test_streaks_count_consecutive_days() -> None:
    from datetime import date

    days = {date(2026, 11, d) for d in (1, 2, 3, 6, 7)}
    assert streaks(days, date(2026, 11, 7)) == (2, 3)
    assert streaks(days, date(2026, 11, 8)) == (2, 3)
    assert streaks(days, date(2026, 11, 9)) == (0, 3)
    assert streaks(set(), date(2026, 11, 9)) == (0, 0)
