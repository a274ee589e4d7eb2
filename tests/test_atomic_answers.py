"""Atomic answers: an answer and everything it updates are one transaction. A crash in the middle
leaves nothing behind, so pressing again records it once; the same press after the answer was
recorded (a retried delivery, a command finished by another replica) gives the same result and
counts nothing twice.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Action, Context, ConversationRef, Message
from bot.store.database import Database
from bot.store.quizstore import QuizStore
from bot.store.tables import answers, cards, daily_answers, exams
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat
from tests.test_daily import RecordingOutbound
from tests.test_quiz import answer_choice, question_of


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def count(db: Database, table: Any) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar() or 0)


class Crash(RuntimeError):
    """The process dies here (as far as the database can tell: the transaction never commits)."""


def crash_once(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> None:
    original = getattr(target, name)
    state = {"armed": True}

    async def dying(*args: Any, **kwargs: Any) -> Any:
        if state["armed"]:
            state["armed"] = False
            raise Crash(name)
        return await original(*args, **kwargs)

    monkeypatch.setattr(target, name, dying)


@pytest.fixture()
def core(kb: KnowledgeBase, db: Database) -> Core:
    settings = Settings(knowledge_dir=KNOWLEDGE, admins=frozenset({"lead"}))
    core = build_core(settings, kb, db=db, rng=random.Random(5), clock=Clock())
    core.outbounds.add(RecordingOutbound())
    return core


async def test_a_crash_inside_a_daily_answer_leaves_nothing_and_the_retry_counts_once(
        core: Core, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    assert core.daily is not None
    lead = Context(platform="console", tenant="T1", user="lead", user_name="Lead",
                   channel="general", direct=False, is_admin=True)
    await core.remember(ConversationRef("console", "T1", "general"))
    await core.router.handle(Message(lead, "daily on 09:00 UTC daily"))
    assert (await core.daily.run_due())["posted"] == 1
    outbound = core.outbounds.get("console")
    assert isinstance(outbound, RecordingOutbound)
    button = outbound.questions()[0].choices[0]
    bob = Context(platform="console", tenant="T1", user="bob", user_name="Bob",
                  channel="general", direct=False)

    crash_once(monkeypatch, QuizStore, "_save_card")  # the last write of the answer
    with pytest.raises(Crash):
        await core.router.handle_action(Action(bob, button.action_id, button.value))
    assert await count(db, daily_answers) == 0, "the daily answer went with the transaction"
    assert await count(db, answers) == 0 and await count(db, cards) == 0

    [first] = await core.router.handle_action(Action(bob, button.action_id, button.value))
    assert "already answered" not in first.text, "the retry is the answer, not a repeat"
    [again] = await core.router.handle_action(Action(bob, button.action_id, button.value))
    assert "already answered" in again.text and first.text in again.text, "same result again"
    assert await count(db, daily_answers) == 1 and await count(db, answers) == 1
    assert await count(db, cards) == 1
    [stats] = await core.router.handle(Message(bob, "stats"))
    assert "Answered: **1**" in stats.text


async def test_a_crash_inside_an_exam_answer_neither_counts_nor_skips_a_question(
        kb: KnowledgeBase, db: Database, core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = FakeChat(core.router)
    _, first = await chat.push("exam 3")
    button = await answer_choice(db, kb, first, correct=True)
    crash_once(monkeypatch, QuizStore, "_step_exam")  # after the answer and the card
    with pytest.raises(Crash):
        await chat.click(button)
    assert await count(db, answers) == 0, "the answer went with the transaction"
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(exams.c.position))).scalar() == 0

    [second] = await chat.click(button)  # the learner presses again
    assert second.text.startswith("**Exam question 2 of 3**")
    [replayed] = await chat.click(button)  # delivered again: the same step, nothing twice
    assert replayed.text == second.text and replayed.choices == second.choices
    assert await count(db, answers) == 1
    async with db.engine.connect() as conn:
        assert (await conn.execute(select(exams.c.position))).scalar() == 1
    assert await question_of(db, second) != await question_of(db, first)


async def test_the_last_exam_answer_replayed_shows_the_same_scorecard(
        kb: KnowledgeBase, db: Database, core: Core) -> None:
    chat = FakeChat(core.router)
    _, shown = await chat.push("exam 1")
    button = await answer_choice(db, kb, shown, correct=False)
    replies = await chat.click(button)
    while "to go)" in replies[-1].text:  # a choose-two question
        replies = await chat.click(await answer_choice(db, kb, replies[-1], correct=True))
        button = replies[-1].choices[0] if "to go)" in replies[-1].text else button
    assert replies[0].text.startswith("**Exam finished")
    again = await chat.click(button)
    assert [r.text for r in again] == [r.text for r in replies]
    assert await count(db, answers) == 1
    [none] = await chat.push("exam resume")
    assert "no exam in progress" in none.text


async def test_concurrent_deliveries_of_one_exam_answer_step_the_exam_once(db: Database) -> None:
    from bot.store.quizstore import ExamStep

    store = QuizStore(db)
    await store.touch_user("T1", "U1", "Ann")
    exam = await store.start_exam("T1", "U1", "", ["q1", "q2", "q3"], None, 70)
    showing = await store.show("T1", "U1", "q1", "exam", [0, 1], exam_id=exam.id)
    step = ExamStep(exam.id, 0, 3)
    results = await asyncio.gather(*[
        store.record_answer(showing, (0,), True, "M", None, None, exam_step=step,
                            review=lambda card: ({"n": 1}, datetime.now(UTC) + timedelta(days=1)))
        for _ in range(4)])
    assert sorted(results) == [False, False, False, True]
    fresh = await store.get_exam(exam.id)
    assert fresh is not None and fresh.position == 1 and fresh.status == "open"
    assert await count(db, answers) == 1 and await count(db, cards) == 1



async def test_finishing_a_roleplay_and_rating_its_card_happen_together_or_not_at_all(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.store.roleplaystore import RoleplayStore

    store = RoleplayStore(db)
    session = await store.create("T1", "U1", "cost-cfo", "cost", {"turn": "pushback"})

    def review(card: dict[str, Any] | None) -> tuple[dict[str, Any], datetime]:
        return {"reviews": (card or {}).get("reviews", 0) + 1}, datetime(2026, 11, 3, tzinfo=UTC)

    crash_once(monkeypatch, QuizStore, "_save_card")
    with pytest.raises(Crash):
        await store.finish(session, {"turn": "done"}, 71, "scenario:cost-cfo", "Role-play", review)
    still_open = await store.open_session("T1", "U1")
    assert still_open is not None and still_open.version == session.version, "not finished"
    assert await count(db, cards) == 0

    assert await store.finish(still_open, {"turn": "done"}, 71, "scenario:cost-cfo",
                              "Role-play", review)
    assert not await store.finish(still_open, {"turn": "done"}, 71, "scenario:cost-cfo",
                                  "Role-play", review), "finished once"
    [done] = await store.finished("T1", "U1")
    assert done.score == 71
    card = await QuizStore(db).get_card("T1", "U1", "scenario:cost-cfo")
    assert card is not None and card.card == {"reviews": 1}
