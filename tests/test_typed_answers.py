"""Typed letters answer the open question in every spelling, through the buttons' own path."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Reply
from bot.quiz.exam import ExamFeature
from bot.quiz.feature import QuizFeature
from bot.quiz.render import LETTERS
from bot.quiz.typed import parse_letters, register_typed_answers
from bot.store.database import Database
from bot.store.quizstore import QuizStore, Showing
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat, shown_question_id
from tests.test_quiz import Clock, answer_buttons


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def typed_chat(kb: KnowledgeBase, db: Database, clock: Clock) -> FakeChat:
    """A core as `build_core` makes it, with typed answers wired the way the coordinator
    registers them (after the quiz feature)."""
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(5),
                      clock=clock)
    quiz = QuizFeature(kb, QuizStore(db, clock), rng=random.Random(5), clock=clock)
    quiz.register(core.router)
    ExamFeature(quiz).register(core.router)
    register_typed_answers(core.router, quiz)
    return FakeChat(core.router)


async def showing_of(db: Database, reply: Reply) -> Showing:
    showing = await QuizStore(db).get_showing(shown_question_id(reply))
    assert showing is not None
    return showing


async def question_of_kind(chat: FakeChat, db: Database, kb: KnowledgeBase, kind: str,
                           scope: str = "") -> Reply:
    """Ask `quiz` until a question of `kind` (single, multiple, truefalse) is on screen."""
    for _ in range(60):
        [reply] = await chat.push(f"quiz {scope}".strip())
        if kb.questions[(await showing_of(db, reply)).question_id].kind == kind:
            return reply
    raise AssertionError(f"no {kind} question served")


async def letters_for(db: Database, kb: KnowledgeBase, reply: Reply,
                      correct: bool = True) -> list[str]:
    """The letters (as shown) of the right answer, or of one wrong option."""
    showing = await showing_of(db, reply)
    question = kb.questions[showing.question_id]
    wanted = question.answer if correct else \
        [o for o in showing.option_order if o not in question.answer][:1]
    return [LETTERS[showing.option_order.index(o)] for o in wanted]


async def answers_recorded(db: Database) -> int:
    from sqlalchemy import func, select

    from bot.store.tables import answers

    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(answers))).scalar_one())


def test_letter_spellings_are_parsed_and_other_text_is_not() -> None:
    for text in ("b", "B", "b)", "(b)", "b.", " b "):
        assert parse_letters(text) == ("B",), text
    for text in ("a c", "a, c", "a and c", "A,C", "(a) (c)"):
        assert parse_letters(text) == ("A", "C"), text
    for text in ("bad", "b is right", "and", "ab", "z", "what is b", ""):
        assert parse_letters(text) is None, text


@pytest.mark.parametrize("spelling", ["{}", "{}", "{})", "({})", "{}."])
async def test_each_spelling_of_a_letter_answers_the_open_question(
        spelling: str, kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = typed_chat(kb, db, clock)
    question = await question_of_kind(chat, db, kb, "single")
    [letter] = await letters_for(db, kb, question)
    typed = spelling.format(letter.lower() if spelling == "{}" else letter)
    [feedback] = await chat.push(typed)
    assert feedback.text.startswith("✅ **Correct!**"), typed
    assert not feedback.replace, "a typed answer is a new message, not an edit of the question"
    assert chat.choice("Next question", [feedback])
    assert await answers_recorded(db) == 1


async def test_a_letter_after_an_unrelated_lookup_still_answers_the_open_question(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = typed_chat(kb, db, clock)
    question = await question_of_kind(chat, db, kb, "single")
    prompt = kb.questions[(await showing_of(db, question)).question_id].prompt
    [lookup] = await chat.push("what is amazon s3")
    assert "Amazon S3" in lookup.text and prompt not in lookup.text
    [wrong] = await letters_for(db, kb, question, correct=False)
    [feedback] = await chat.push(wrong.lower())
    assert feedback.text.startswith("❌ **Not quite.**") and prompt in feedback.text


async def test_a_double_letter_counts_once(kb: KnowledgeBase, db: Database,
                                           clock: Clock) -> None:
    chat = typed_chat(kb, db, clock)
    question = await question_of_kind(chat, db, kb, "single")
    [letter] = await letters_for(db, kb, question)
    first, second = await asyncio.gather(chat.push(letter), chat.push(letter))
    texts = [r.text for r in first + second]
    assert sum(t.startswith("✅ **Correct!**") for t in texts) >= 1
    assert await answers_recorded(db) == 1
    [late] = await chat.push(letter)
    assert late.text == "There's no open question to answer; type `quiz` for one."
    [stats] = await chat.push("stats")
    assert "Answered: **1**" in stats.text


async def test_a_lone_letter_without_an_open_question_is_not_a_lookup(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = typed_chat(kb, db, clock)
    [reply] = await chat.push("b")
    assert reply.text == "There's no open question to answer; type `quiz` for one."
    clock.now = clock.now.replace(day=1)  # a question shown more than a day ago is closed
    await chat.push("quiz")
    clock.now = clock.now.replace(day=3)
    [stale] = await chat.push("c")
    assert stale.text.startswith("There's no open question")


async def test_a_letter_past_the_options_is_explained(kb: KnowledgeBase, db: Database,
                                                      clock: Clock) -> None:
    chat = typed_chat(kb, db, clock)
    await question_of_kind(chat, db, kb, "truefalse")
    [reply] = await chat.push("d")
    assert reply.text == "Pick a letter from A to B."
    [again] = await chat.push("a, b")
    assert "takes one answer" in again.text
    assert await answers_recorded(db) == 0


async def test_multiple_select_typed_as_letters(kb: KnowledgeBase, db: Database,
                                                clock: Clock) -> None:
    chat = typed_chat(kb, db, clock)
    question = await question_of_kind(chat, db, kb, "multiple")
    letters = await letters_for(db, kb, question)
    [feedback] = await chat.push(" and ".join(letter.lower() for letter in letters))
    assert feedback.text.startswith("✅ **Correct!**")
    assert await answers_recorded(db) == 1


async def test_multiple_select_keeps_its_letters_and_unpicks(kb: KnowledgeBase, db: Database,
                                                             clock: Clock) -> None:
    chat = typed_chat(kb, db, clock)
    question = await question_of_kind(chat, db, kb, "multiple")
    labels = [c.label for c in question.choices]
    right = await letters_for(db, kb, question)
    [wrong] = await letters_for(db, kb, question, correct=False)
    [picked] = await chat.click(chat.choice(wrong, [question]))
    assert [c.label for c in picked.choices] == labels, "every letter keeps its button"
    assert f"{wrong}) " in picked.text and " ✔ picked" in picked.text
    [unpicked] = await chat.click(chat.choice(wrong, [picked]))
    assert "✔ picked" not in unpicked.text, "pressing a picked letter again un-picks it"
    assert await answers_recorded(db) == 0
    [typed] = await chat.push(wrong.lower())  # typing works the same way
    assert typed.text.count("✔ picked") == 1
    [untyped] = await chat.push(wrong)
    assert "✔ picked" not in untyped.text
    replies: list[Reply] = []
    for letter in right:
        replies = await chat.click(chat.choice(letter, [question]))
    assert replies[0].text.startswith("✅ **Correct!**")
    assert await answers_recorded(db) == 1
    assert [c.label for c in answer_buttons(question)] == list(LETTERS[:len(labels) - 1])


async def test_a_letter_answers_an_exam_question(kb: KnowledgeBase, db: Database,
                                                 clock: Clock) -> None:
    chat = typed_chat(kb, db, clock)
    _, first = await chat.push("exam 2 Amazon EBS")
    showing = await showing_of(db, first)
    if kb.questions[showing.question_id].kind == "multiple":
        letters = " ".join(await letters_for(db, kb, first))
    else:
        [letters] = await letters_for(db, kb, first)
    [second] = await chat.push(letters)
    assert second.text.startswith("**Exam question 2 of 2**")
    assert await answers_recorded(db) == 1
