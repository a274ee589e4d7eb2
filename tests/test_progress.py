"""`stats` over time (trend, exam history, mastery per module) and the fair `leaderboard`."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.knowledge import KnowledgeBase
from bot.quiz.ranking import ordinal, practice_score
from bot.store.database import Database
from bot.store.historystore import PracticeScore
from bot.store.quizstore import QuizStore
from tests.fakes import FakeChat
from tests.test_mistakes import answer, shown, wired
from tests.test_quiz import Clock


@pytest.fixture()
def clock() -> Clock:
    return Clock()  # Monday 2 November 2026, 09:00 UTC


@pytest.fixture()
def chat(kb: KnowledgeBase, db: Database, clock: Clock) -> FakeChat:
    return FakeChat(wired(kb, db, clock).router)


async def quiz_and_answer(chat: FakeChat, db: Database, kb: KnowledgeBase, scope: str,
                          correct: bool) -> str:
    [question] = await chat.push(f"quiz {scope}")
    await answer(chat, db, kb, question, correct)
    return (await shown(db, question))[1]


# -- stats ----------------------------------------------------------------------------------

async def test_stats_compare_this_week_with_last_week(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    monday = clock.now
    clock.now = monday - timedelta(days=12)  # the week before last: in neither
    await quiz_and_answer(chat, db, kb, "storage", True)
    clock.now = monday - timedelta(days=5)  # last Wednesday
    for correct in (True, True, False):
        await quiz_and_answer(chat, db, kb, "storage", correct)
    clock.now = monday + timedelta(days=1)
    for correct in (True, False):
        await quiz_and_answer(chat, db, kb, "storage", correct)
    [stats] = await chat.push("stats")
    assert "This week 2 answers, 50 % · last week 3, 67 % · accuracy ↓" in stats.text
    assert "Answered: **6**" in stats.text

    clock.now = monday + timedelta(days=8)  # a week later: this week is empty so far
    [later] = await chat.push("stats")
    assert "This week no answers yet · last week 2, 50 %" in later.text


async def test_stats_list_finished_timed_out_and_abandoned_exams(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    [empty] = await chat.push("stats")
    assert "Exams: none yet" in empty.text

    _, first = await chat.push("exam 2")
    await answer(chat, db, kb, first, True)
    await answer(chat, db, kb, chat.last[-1], False)  # the scorecard follows the last answer

    clock.now += timedelta(days=1)
    _, timed = await chat.push("exam 3 storage 10m")
    await answer(chat, db, kb, timed, True)
    clock.now += timedelta(minutes=15)  # past the deadline, and not back yet
    [stats] = await chat.push("stats")
    assert "- Tue 03 Nov · Storage · 1/3 (33 %) FAIL · time ran out" in stats.text

    clock.now += timedelta(days=1)
    closing = await chat.push("exam 4")  # the timed-out exam's result comes first
    assert "time ra" in closing[0].text.lower()
    _, third = await chat.push("exam 4")
    await answer(chat, db, kb, third, True)
    await chat.push("exam abandon")

    [stats] = await chat.push("stats")
    history = stats.text.split("**Recent exams**\n")[1].split("\n**By module**")[0].splitlines()
    assert history == ["- Wed 04 Nov · the whole course · 1/4 · abandoned after 1 of 4",
                       "- Tue 03 Nov · Storage · 1/3 (33 %) FAIL · time ran out",
                       "- Mon 02 Nov · the whole course · 1/2 (50 %) FAIL"]


async def test_mastery_waits_for_three_questions_and_names_the_weakest_section(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    qid = await quiz_and_answer(chat, db, kb, "APN benefits", False)
    [stats] = await chat.push("stats")
    partner = next(f for f in stats.fields if f.label == "Partner network")
    assert "0 % · mastery – (1 answered)" in partner.value, "no 100 % after a wrong answer"
    assert f"weakest: {kb.questions[qid].section} (0 of 1 right)" in partner.value
    lines = stats.text.splitlines()
    assert lines[-1].startswith("**By module**"), "the table's header sits right above it"
    assert "chance you still remember" in lines[-1]
    assert any(line.startswith("**Role-play**") for line in lines[:-1])

    seen = {qid}
    for _ in range(12):
        if len(seen) >= 3:
            break
        clock.now += timedelta(hours=1)
        seen.add(await quiz_and_answer(chat, db, kb, "Partner network", True))
    [stats] = await chat.push("stats")
    partner = next(f for f in stats.fields if f.label == "Partner network")
    mastery = partner.value.split("mastery ")[1].split(" %")[0]
    assert mastery.isdigit() and int(mastery) < 100, partner.value


# -- leaderboard ----------------------------------------------------------------------------

async def practise(db: Database, kb: KnowledgeBase, user: str, name: str, right: int,
                   wrong: int, when: datetime, repeat: bool = False) -> None:
    """Record `right` answers right (distinct questions, or one question when `repeat`) and
    `wrong` answers wrong, at `when`."""
    store = QuizStore(db, clock=lambda: when)
    await store.touch_user("T1", user, name)
    ids = list(kb.questions)
    plan = [(ids[0] if repeat else ids[i], True) for i in range(right)]
    plan += [(ids[100 + i % 50], False) for i in range(wrong)]
    for qid, correct in plan:
        showing = await store.show("T1", user, qid, "quiz", [0, 1])
        assert await store.record_answer(showing, (0,), correct, "M", None, None, when)


async def test_accuracy_beats_volume_and_nobody_at_zero_is_named(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    await practise(db, kb, "U-s", "sampler3", right=25, wrong=58, when=clock.now)
    await practise(db, kb, "U-r", "root", right=14, wrong=6, when=clock.now)
    await practise(db, kb, "U-d", "dave", right=0, wrong=6, when=clock.now)
    await practise(db, kb, "U-e", "eve", right=3, wrong=0, when=clock.now)
    [board] = await chat.push("leaderboard", user="U-r")
    assert board.text.index("1. root: score 6.5 · 14 right of 20 (70 %) ← you") \
        < board.text.index("2. sampler3: score 2.3 · 25 right of 83 (30 %)")
    assert "dave" not in board.text, "nobody at 0 % is named"
    assert "eve" not in board.text, "3 answers are not enough to be ranked"

    [dave] = await chat.push("leaderboard", user="U-d")
    assert "You're not ranked yet: get one answer right to join." in dave.text
    [eve] = await chat.push("leaderboard", user="U-e")
    assert "You're not ranked yet: answer 2 more questions." in eve.text


async def test_one_question_counts_once_a_day(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    await practise(db, kb, "U-g", "grinder", right=30, wrong=0, when=clock.now, repeat=True)
    await practise(db, kb, "U-c", "carol", right=6, wrong=0, when=clock.now)
    [board] = await chat.push("leaderboard", user="U-g")
    assert board.text.index("carol") < board.text.index("grinder")
    assert "2. grinder: score 0.9 · 30 right of 30 (100 %) ← you" in board.text


async def test_identical_week_and_all_time_are_one_block(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    await practise(db, kb, "U-a", "alice", right=6, wrong=1, when=clock.now)
    [board] = await chat.push("leaderboard", user="U-a")
    assert "**This week and all time**" in board.text
    assert "**This week**\n" not in board.text and "**All time**" not in board.text

    await practise(db, kb, "U-b", "bob", right=9, wrong=0, when=clock.now - timedelta(days=9))
    [board] = await chat.push("leaderboard", user="U-a")
    week, all_time = board.text.split("**All time**")
    assert "**This week**" in week and "bob" not in week
    assert all_time.index("1. bob") < all_time.index("2. alice")


async def test_in_a_channel_your_place_is_private(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock) -> None:
    for i in range(7):
        await practise(db, kb, f"U{i}", f"learner {i}", right=5 + i, wrong=1, when=clock.now)
    await practise(db, kb, "U-me", "me_*me*", right=5, wrong=3, when=clock.now)
    public, own = await chat.push("leaderboard", user="U-me", dm=False)
    assert not public.private and own.private
    assert "← you" not in public.text
    assert public.text.count("\n1. ") == 1 and "\n6. " not in public.text, "top five only"
    assert "You: 8th of 8, score" in own.text
    assert "me_" not in public.text, "eighth place is not shown publicly"

    [dm] = await chat.push("leaderboard", user="U6")
    assert "1. learner 6: score" in dm.text and "← you" in dm.text
    await practise(db, kb, "U-x", "*star*", right=40, wrong=0, when=clock.now)
    [dm] = await chat.push("leaderboard", user="U-me")
    assert "1. \\*star\\*: score" in dm.text, "names are escaped"
    assert "You: 9th of 9" in dm.text


def test_scores_and_ordinals() -> None:
    def score(right: int, answered: int, days: int) -> float:
        return practice_score(PracticeScore("u", "n", answered, right, days))

    assert score(14, 20, 14) > score(25, 83, 25)
    assert score(40, 50, 40) > score(6, 6, 6), "volume at good accuracy still counts"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
