"""Issue 11's acceptance as one console session: a wrong answer teaches every option, comes back
in `mistakes` and in the same day's `review`, and `ready` estimates per module with evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.store.database import Database
from tests.conftest import KNOWLEDGE
from tests.test_console_session import Session, ask_question, right_letter


@pytest.fixture()
def full(kb: KnowledgeBase, db: Database, tmp_path: Path) -> Core:
    return build_core(Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path), kb, db=db)


async def test_one_wrong_answer_through_feedback_mistakes_review_and_ready(full: Core) -> None:
    kb = full.kb
    session = Session(full)
    printed = await ask_question(session, "quiz storage")
    prompt = printed.splitlines()[1]
    question = next(q for q in kb.questions.values() if q.prompt == prompt)
    shown = {line[0]: line[3:] for line in printed.splitlines()
             if len(line) > 3 and line[1:3] == ") " and line[0] in "ABCDEFGH"}
    wrong = right_letter(kb, session.chat, want_correct=False)

    feedback = await session.say(wrong)
    assert feedback.startswith("❌ Not quite."), feedback
    for index, option in enumerate(question.options):  # a line for every option, with its why
        letter = next(k for k, text in shown.items() if text.startswith(option.text[:40]))
        line = next((row for row in feedback.splitlines()
                     if row.lstrip("- ✅✖").startswith(f"{letter}) ")), None)
        assert line is not None, (letter, feedback)
        assert option.why.split(".")[0] in line, (option.why, line)
        assert ("✅" in line) == (index in question.answer)
    assert "your answer" in next(row for row in feedback.splitlines() if f"{wrong.upper()}) " in row)

    other = await session.say("what is a nacl")  # an unrelated lookup in between
    assert "Network" in other

    mistakes = await session.say("mistakes")
    assert question.prompt in mistakes
    assert "Retry" in mistakes
    assert question.options[question.answer[0]].text in mistakes, "the right answer is shown"

    review = await session.say("review")
    assert question.prompt in review, "a wrong answer comes back the same day"
    assert "due today" in review

    ready = await session.say("ready")
    modules = list(dict.fromkeys(s.module for s in kb.sections))
    for module in modules:
        assert module in ready, module
    assert "not enough evidence" in ready.lower(), "one answer never makes anyone ready"
    assert "answer" in ready.lower() and "%" in ready
