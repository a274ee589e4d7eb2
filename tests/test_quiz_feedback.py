"""Feedback that teaches, timed exams that hold their deadline, and scopes learners type."""

from __future__ import annotations

import copy
import random
import re
from datetime import timedelta

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.quiz.exam import parse_exam_args
from bot.quiz.render import LETTERS
from bot.store.database import Database
from bot.store.quizstore import QuizStore
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat, shown_question_id
from tests.test_exam_progress import answer
from tests.test_quiz import Clock, answer_choice, question_of


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def new_chat(kb: KnowledgeBase, db: Database, clock: Clock) -> FakeChat:
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(11),
                      clock=clock)
    return FakeChat(core.router)


async def test_wrong_answer_feedback_explains_every_option_in_the_order_shown(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [question] = await chat.push("quiz migration")
    while kb.questions[await question_of(db, question)].kind != "single":
        [question] = await chat.push("quiz migration")
    showing = await QuizStore(db).get_showing(shown_question_id(question))
    assert showing is not None
    q = kb.questions[showing.question_id]
    press = await answer_choice(db, kb, question, correct=False)
    chosen = int(press.value.split(":")[1])
    [feedback] = await chat.click(press)
    assert feedback.text.startswith("❌ **Not quite.**")
    assert q.explanation in feedback.text and f"`ask {q.entry}`" in feedback.text
    lines = [line for line in feedback.text.splitlines() if re.match(r"- [✅✖] [A-H]\) ", line)]
    assert len(lines) == len(q.options), "one line for every option"
    for position, (line, option) in enumerate(zip(lines, showing.option_order, strict=True)):
        assert line.startswith(f"- {'✅' if option in q.answer else '✖'} {LETTERS[position]}) "
                               f"{q.options[option].text}")
        assert line.endswith(q.options[option].why)
        assert ("← **your answer**" in line) == (option == chosen)
    assert feedback.choices[-1].action_id == "report.start"
    assert feedback.choices[-1].value == f"question:{q.id}"
    assert question.choices[-1].label == "Report a problem"


async def test_exam_missed_list_shows_the_pick_and_why_or_not_answered(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    _, first = await chat.push("exam 2 storage 10m")
    assert first.text.startswith("**Exam question 1 of 2 · 10 minutes left**")
    q1 = kb.questions[await question_of(db, first)]
    press = await answer_choice(db, kb, first, correct=False)
    picked = int(press.value.split(":")[1])
    clock.now += timedelta(minutes=3, seconds=30)
    replies = await chat.click(press)
    while "to go)" in replies[-1].text:
        replies = await chat.click(await answer_choice(db, kb, replies[-1], correct=True))
    [second] = replies
    assert second.text.startswith("**Exam question 2 of 2 · 7 minutes left**")
    q2 = kb.questions[await question_of(db, second)]
    clock.now += timedelta(minutes=7)
    scorecard, missed = await chat.push("exam resume")  # past the deadline: the scorecard
    assert "Time ran out: 1 unanswered question counts as wrong" in scorecard.text
    assert "**Weakest sections:**" in scorecard.text
    before, after = missed.text.split(q2.prompt)
    assert q1.prompt in before and q1.options[picked].why in before
    assert "(wrong)" in before and q1.explanation in before
    assert "You picked: not answered." in after and q2.explanation in after
    for index in q2.answer:
        assert q2.options[index].text in after


async def test_an_exam_answer_after_the_deadline_earns_nothing(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    _, shown = await chat.push("exam 1 1m")
    press = await answer_choice(db, kb, shown, correct=True)
    clock.now += timedelta(seconds=61)
    scorecard, _ = await chat.click(press)
    assert scorecard.text.startswith("⏰ **Time's up.**")
    assert "0/1 (0 %), FAIL" in scorecard.text
    [again] = (await chat.click(press))[:1]  # pressed again: still no credit
    assert "0/1 (0 %)" in again.text
    [stats] = await chat.push("stats")
    assert "Answered: **0**" in stats.text


def test_exam_arguments() -> None:
    assert parse_exam_args(["5", "2h"]) == (5, 120, [])
    assert parse_exam_args(["10", "90m"]) == (10, 90, [])
    assert parse_exam_args(["3", "1h30m"]) == (3, 90, [])
    assert parse_exam_args(["3", "1h", "30m", "storage"]) == (3, 90, ["storage"])
    assert parse_exam_args(["4", "45", "min"]) == (4, 45, [])
    assert parse_exam_args([]) == (25, None, [])
    for bad in (["0"], ["500"], ["99999999"], ["9" * 5000]):
        assert parse_exam_args(bad) == "A practice exam has 1 to 100 questions. Try `exam 25`."
    for bad in (["5", "0m"], ["5", "11h"], ["5", "601m"], ["5", "99999m"]):
        assert isinstance(parse_exam_args(bad), str) and "1 minute to 10 hours" in \
            str(parse_exam_args(bad))


async def test_exam_counts_and_durations_as_people_type_them(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    for text in ("exam 0", "exam 500", "exam 99999999"):
        [reply] = await chat.push(text)
        assert reply.text.startswith("A practice exam has 1 to 100 questions."), text
    [limit] = await chat.push("exam 5 11h")
    assert "1 minute to 10 hours" in limit.text
    intro, first = await chat.push("exam 5 2h")
    assert "5 questions on the whole course, 2 hours." in intro.text
    assert first.text.startswith("**Exam question 1 of 5 · 2 hours left**")
    await chat.push("exam abandon")
    intro, first = await chat.push("exam 1 1h30m")
    assert "**Practice exam**: 1 question on the whole course, 1 hour 30 minutes." in intro.text
    await chat.push("exam abandon")
    intro, first = await chat.push("exam 2 1m")
    assert ", 1 minute." in intro.text and "· 1 minute left**" in first.text


async def test_practise_after_a_topic_exam_keeps_the_topic(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    await chat.push("exam 1 security")
    _, missed = await answer(chat, db, kb, correct=False)
    [quiz] = await chat.click(chat.choice("Practise with a quiz", [missed]))
    assert quiz.text.startswith("**Quiz · Security, identity and compliance**")
    assert kb.questions[await question_of(db, quiz)].domain == "security"


async def test_an_exam_skips_a_question_that_left_the_bank(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    await chat.push("exam 3 storage")
    await answer(chat, db, kb, correct=True)
    retired = await question_of(db, chat.last[-1])  # question 2 is on screen
    smaller = copy.copy(kb)
    smaller.questions = {k: v for k, v in kb.questions.items() if k != retired}
    restarted = new_chat(smaller, db, clock)  # a deploy removed it
    [resumed] = await restarted.push("exam resume")
    assert resumed.text.startswith("**Exam question 3 of 3**")
    scorecard, _ = await answer(restarted, db, smaller, correct=True)
    assert "2/2 (100 %), PASS" in scorecard.text
    assert "1 question left the question bank" in scorecard.text


@pytest.mark.parametrize(("typed", "entry"), [
    ("lambda", "lambda"), ("eks", "eks"), ("kubernetes", "eks"), ("Lamda", "lambda")])
async def test_quiz_on_a_service_asks_its_own_questions_first(
        typed: str, entry: str, kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [reply] = await chat.push(f"quiz {typed}")
    assert "don't know the topic" not in reply.text
    assert kb.questions[await question_of(db, reply)].entry == entry
    assert reply.text.startswith(f"**Quiz · {kb.entries[entry].title}**")


async def test_quiz_on_a_word_in_entry_names_and_unknown_text(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [cost] = await chat.push("quiz cost")
    assert cost.text.startswith("**Quiz · cost**")
    entry = kb.entries[kb.questions[await question_of(db, cost)].entry]
    assert any("cost" in name.lower() for name in (entry.title, *entry.aliases))
    [unknown] = await chat.push("quiz underwater basket weaving")
    assert "don't know the topic" in unknown.text and "`storage`" in unknown.text



async def test_starting_an_exam_after_the_last_one_ran_out_shows_its_result(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    await chat.push("exam 2 5m")
    clock.now += timedelta(minutes=6)
    scorecard, _ = await chat.push("exam 3")
    assert "time ran out" in scorecard.text and "0/2 (0 %)" in scorecard.text
    intro, first = await chat.push("exam 3")
    assert intro.text.startswith("**Practice exam**: 3 questions")
    assert first.text.startswith("**Exam question 1 of 3**")
