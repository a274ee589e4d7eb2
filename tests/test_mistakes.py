"""`mistakes`: recent wrong answers with the right answer, and Retry serving the question again."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Choice, Reply
from bot.quiz.feature import QuizFeature
from bot.quiz.mistakes import RETRY_ACTION, MistakesFeature
from bot.store.database import Database
from bot.store.historystore import HistoryStore
from bot.store.quizstore import QuizStore
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat
from tests.test_quiz import Clock

ANSWER = "quiz.answer"


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def wired(kb: KnowledgeBase, db: Database, clock: Clock) -> Core:
    """The core as built for production, plus the mistakes feature (until app.py wires it)."""
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(11),
                      clock=clock)
    if not core.router.has_command("mistakes"):
        quiz = QuizFeature(kb, QuizStore(db, clock), rng=random.Random(5), clock=clock)
        MistakesFeature(quiz, HistoryStore(db)).register(core.router)
    return core


@pytest.fixture()
def chat(kb: KnowledgeBase, db: Database, clock: Clock) -> FakeChat:
    return FakeChat(wired(kb, db, clock).router)


def answer_buttons(reply: Reply) -> list[Choice]:
    return [c for c in reply.choices if c.action_id == ANSWER]


async def shown(db: Database, reply: Reply) -> tuple[str, str]:
    """(showing id, question id) of a question reply."""
    showing_id = answer_buttons(reply)[0].value.split(":")[0]
    showing = await QuizStore(db).get_showing(showing_id)
    assert showing is not None
    return showing.id, showing.question_id


async def answer(chat: FakeChat, db: Database, kb: KnowledgeBase, reply: Reply,
                 correct: bool, user: str = "alice") -> tuple[int, ...]:
    """Answer the question on screen right or wrong; the original option indexes chosen."""
    showing_id, qid = await shown(db, reply)
    question = kb.questions[qid]
    store = QuizStore(db)
    first = next(c for c in answer_buttons(reply)
                 if (int(c.value.split(":")[1]) in question.answer) == correct)
    replies = await chat.click(first, user=user)
    for _ in range(len(question.options)):  # multiple select: add right picks until graded
        showing = await store.get_showing(showing_id)
        assert showing is not None
        if showing.answered_at is not None:
            return showing.picked
        more = next(c for c in answer_buttons(replies[-1])
                    if int(c.value.split(":")[1]) in question.answer
                    and int(c.value.split(":")[1]) not in showing.picked)
        replies = await chat.click(more, user=user)
    raise AssertionError("the question was never graded")


async def test_a_wrong_answer_is_listed_and_retry_serves_it_again(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    [question] = await chat.push("quiz Amazon S3")
    _, qid = await shown(db, question)
    picked = await answer(chat, db, kb, question, correct=False)
    clock.now += timedelta(hours=2)
    [other] = await chat.push("quiz Amazon EBS")
    _, right_qid = await shown(db, other)
    await answer(chat, db, kb, other, correct=True)

    [listing] = await chat.push("mistakes")
    q = kb.questions[qid]
    assert listing.private
    assert "**Your recent mistakes**: 1 question answered wrong" in listing.text
    assert q.prompt in listing.text
    assert kb.questions[right_qid].prompt not in listing.text, "right answers are not mistakes"
    wrong_text = "; ".join(q.options[i].text for i in picked)
    assert f"- You picked: {wrong_text}" in listing.text
    assert f"- Right answer: {'; '.join(q.correct_texts)}" in listing.text
    assert f"{kb.module_of(q.section)} › {q.section}" in listing.text
    assert [c.label for c in listing.choices] == ["Retry 1"]

    before = await QuizStore(db).get_card("T1", "alice", qid)
    [retry] = await chat.click(chat.choice("Retry 1", [listing]))
    assert retry.text.startswith("**Retry a mistake**")
    assert (await shown(db, retry))[1] == qid, "Retry serves the same question"
    await answer(chat, db, kb, retry, correct=True)
    card = await QuizStore(db).get_card("T1", "alice", qid)
    assert before is not None and card is not None and card.due > before.due, \
        "the retry's answer updated the review card as any review does"

    [after] = await chat.push("mistakes")
    assert "answered all 1 of your mistakes" in after.text and not after.choices


async def test_newest_first_older_than_thirty_days_left_out(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    start = clock.now
    wrong = []
    for days, section in ((0, "Amazon S3"), (20, "Amazon EBS"), (40, "Serverless")):
        clock.now = start + timedelta(days=days)
        [question] = await chat.push(f"quiz {section}")
        wrong.append((await shown(db, question))[1])
        await answer(chat, db, kb, question, correct=False)
    clock.now = start + timedelta(days=45)  # 45, 25 and 5 days ago
    [listing] = await chat.push("mistakes")
    assert kb.questions[wrong[0]].prompt not in listing.text, "older than 30 days"
    first, second = (listing.text.index(kb.questions[q].prompt) for q in (wrong[2], wrong[1]))
    assert first < second, "newest first"
    assert [c.value for c in listing.choices] == [wrong[2], wrong[1]]


async def test_no_mistakes_points_to_quiz(chat: FakeChat) -> None:
    [reply] = await chat.push("mistakes")
    assert "No wrong answers" in reply.text and "`quiz`" in reply.text
    assert not reply.choices


async def test_forged_retry_value_gets_a_clear_message_and_shows_nothing(
        chat: FakeChat, db: Database) -> None:
    for value in ("no-such-question", "x" * 5000, ""):
        [reply] = await chat.click(Choice(RETRY_ACTION, "Retry 1", value))
        assert "no longer in the question bank" in reply.text and reply.private
    assert await QuizStore(db).last_question("T1", "alice") is None, "nothing was shown"
