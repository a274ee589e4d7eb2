"""Quizzes, reviews and spaced repetition driven through the router as a learner would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Choice, Reply
from bot.store.database import Database
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat, shown_question_id


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def chat(kb: KnowledgeBase, db: Database, clock: Clock) -> FakeChat:
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(7),
                      clock=clock)
    return FakeChat(core.router)


def answer_buttons(reply: Reply) -> list[Choice]:
    """The letter buttons of a question (not "Report a problem" and the like)."""
    return [c for c in reply.choices if c.action_id == "quiz.answer"]


async def answer_choice(db: Database, kb: KnowledgeBase, reply: Reply, correct: bool) -> Choice:
    """The button a learner who knows (or does not know) the answer would press next: never
    one already picked (pressing that again would un-pick it)."""
    from bot.store.quizstore import QuizStore

    showing = await QuizStore(db).get_showing(shown_question_id(reply))
    assert showing is not None
    question = kb.questions[showing.question_id]
    for choice in answer_buttons(reply):
        option = int(choice.value.split(":")[1])
        if (option in question.answer) == correct and option not in showing.picked:
            return choice
    raise AssertionError("no suitable option")


async def question_of(db: Database, reply: Reply) -> str:
    from bot.store.quizstore import QuizStore

    showing = await QuizStore(db).get_showing(shown_question_id(reply))
    assert showing is not None
    return showing.question_id


async def test_right_answer_feedback_and_double_click_counts_once(
        chat: FakeChat, db: Database, kb: KnowledgeBase) -> None:
    single = next(q for q in kb.questions.values() if q.kind == "single")
    [question] = await chat.push(f"quiz {single.section}")
    while kb.questions[await question_of(db, question)].kind != "single":
        [question] = await chat.push(f"quiz {single.section}")
    assert question.private and [c.label for c in question.choices] == \
        ["A", "B", "C", "D", "Report a problem"]
    qid = await question_of(db, question)
    press = await answer_choice(db, kb, question, correct=True)
    [feedback] = await chat.click(press)
    q = kb.questions[qid]
    assert feedback.replace, "the question message is replaced by the result"
    assert feedback.text.startswith("✅ **Correct!**")
    assert q.explanation in feedback.text
    assert q.options[q.answer[0]].why in feedback.text
    assert f"`ask {q.entry}`" in feedback.text
    assert chat.choice("Next question", [feedback])

    [again] = await chat.click(press)
    assert "already answered" in again.text
    [stats] = await chat.push("stats")
    assert "Answered: **1**" in stats.text


async def test_wrong_answer_shows_the_correct_one_and_why_mine_was_wrong(
        chat: FakeChat, db: Database, kb: KnowledgeBase) -> None:
    [question] = await chat.push("quiz")
    qid = await question_of(db, question)
    press = await answer_choice(db, kb, question, correct=False)
    replies = await chat.click(press)
    q = kb.questions[qid]
    if q.kind == "multiple":  # one wrong pick of two: the question is shown again, then graded
        replies = await chat.click(await answer_choice(db, kb, replies[0], correct=True))
    [feedback] = replies
    assert feedback.text.startswith("❌ **Not quite.**")
    for index in q.answer:
        assert q.options[index].text in feedback.text
    chosen = int(press.value.split(":")[1])
    assert q.options[chosen].why in feedback.text


async def test_never_the_same_question_twice_in_a_row(chat: FakeChat, db: Database,
                                                      kb: KnowledgeBase, clock: Clock) -> None:
    previous = None
    [reply] = await chat.push("quiz Amazon EBS")
    for step in range(12):
        qid = await question_of(db, reply)
        assert qid != previous, f"step {step} repeated {qid}"
        assert kb.questions[qid].section == "Amazon EBS"
        previous = qid
        replies = await chat.click(await answer_choice(db, kb, reply, correct=step % 2 == 0))
        while replies[0].text.startswith("**Quiz"):  # multiple select: keep picking
            replies = await chat.click(await answer_choice(db, kb, replies[0], correct=True))
        clock.now += timedelta(days=1)
        [reply] = await chat.click(chat.choice("Next question", replies))


async def test_options_are_shuffled_on_every_showing(chat: FakeChat, db: Database) -> None:
    orders = set()
    for _ in range(8):
        [reply] = await chat.push("quiz Amazon EBS")
        orders.add(tuple(c.value.split(":")[1] for c in answer_buttons(reply)))
    assert len(orders) > 1


async def answer_fully(chat: FakeChat, db: Database, kb: KnowledgeBase, reply: Reply,
                       correct: bool) -> list[Reply]:
    """Answer the question on screen (every pick of a multiple select)."""
    replies = await chat.click(await answer_choice(db, kb, reply, correct))
    while "to go)" in replies[0].text:
        replies = await chat.click(await answer_choice(db, kb, replies[0], correct=True))
    return replies


async def test_missed_question_comes_back_in_review_the_same_day(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    [reply] = await chat.push("review")
    assert "Nothing to review yet" in reply.text
    [question] = await chat.push("quiz storage")
    missed = await question_of(db, question)
    await answer_fully(chat, db, kb, question, correct=False)
    [other] = await chat.push("quiz Amazon VPC and subnets")
    await answer_fully(chat, db, kb, other, correct=True)

    clock.now += timedelta(hours=2)  # later the same day
    [due] = await chat.push("review")
    assert due.text.startswith("**Review (1 due today)**")
    assert await question_of(db, due) == missed
    replies = await answer_fully(chat, db, kb, due, correct=True)
    assert replies[0].text.startswith("✅")
    [after] = await chat.push("review")
    assert "Nothing is due today" in after.text, "answered right since: not offered again today"


async def test_missed_question_comes_back_when_due_on_its_schedule(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    [question] = await chat.push("quiz storage")
    missed = await question_of(db, question)
    await answer_fully(chat, db, kb, question, correct=False)
    [other] = await chat.push("quiz Amazon VPC and subnets")
    await answer_fully(chat, db, kb, other, correct=True)
    clock.now += timedelta(days=1, hours=1)
    [quiz_first] = await chat.push("quiz storage")
    assert await question_of(db, quiz_first) == missed, "due reviews come first in a quiz"
    [due] = await chat.push("review")
    assert due.text.startswith("**Review (1 due today)**")
    assert await question_of(db, due) == missed
    replies = await answer_fully(chat, db, kb, due, correct=True)
    assert replies[0].text.startswith("✅")
    [after] = await chat.push("review")
    assert "Nothing is due today" in after.text


async def test_review_never_repeats_the_question_just_seen_when_another_is_due(
        chat: FakeChat, db: Database, kb: KnowledgeBase) -> None:
    wrong = []
    for section in ("Amazon S3", "Amazon VPC and subnets"):
        [question] = await chat.push(f"quiz {section}")
        wrong.append(await question_of(db, question))
        await answer_fully(chat, db, kb, question, correct=False)
    [first] = await chat.push("review")
    assert first.text.startswith("**Review (2 due today)**")
    assert await question_of(db, first) == wrong[0], "not the one just answered"
    replies = await answer_fully(chat, db, kb, first, correct=False)
    [second] = await chat.click(chat.choice("Next review", replies))
    assert await question_of(db, second) == wrong[1]


async def test_multiple_select_needs_every_pick_and_counts_once(
        chat: FakeChat, db: Database, kb: KnowledgeBase) -> None:
    multi = next(q for q in kb.questions.values() if q.kind == "multiple")
    [reply] = await chat.push(f"quiz {multi.section}")
    for _ in range(40):
        if kb.questions[await question_of(db, reply)].kind == "multiple":
            break
        replies = await chat.click(reply.choices[0])
        [reply] = await chat.click(chat.choice("Next question", replies))
    qid = await question_of(db, reply)
    question = kb.questions[qid]
    assert question.kind == "multiple"
    picks = [c for c in answer_buttons(reply) if int(c.value.split(":")[1]) in question.answer]
    [partial] = await chat.click(picks[0])
    assert partial.replace and "✔ picked" in partial.text and "to go" in partial.text
    for pick in picks[1:]:
        replies = await chat.click(pick)
    assert replies[0].text.startswith("✅ **Correct!**")
    [again] = await chat.click(picks[-1])
    assert "already answered" in again.text


async def test_someone_else_cannot_answer_my_question(chat: FakeChat) -> None:
    [question] = await chat.push("quiz", user="alice")
    [reply] = await chat.click(question.choices[0], user="bob")
    assert "someone else" in reply.text


async def test_unknown_topic_is_explained(chat: FakeChat) -> None:
    [reply] = await chat.push("quiz underwater basket weaving")
    assert "don't know the topic" in reply.text and "`storage`" in reply.text
