"""Role-play conversations through the router: DM flow, reveal, frustration, scorecard, resume."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Reply
from bot.roleplay.scenarios import Scenario
from bot.store.database import Database
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat
from tests.test_quiz import Clock


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def new_chat(kb: KnowledgeBase, db: Database, clock: Clock) -> FakeChat:
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(2),
                      clock=clock)
    return FakeChat(core.router)


def scenario_in(kb: KnowledgeBase, reply: Reply) -> Scenario:
    return next(s for s in kb.scenarios.values() if s.title in reply.text)


GOOD_QUESTION = ("I understand why that worries you. What is the biggest concern for you "
                 "about {topic}: what would have to be true for you to feel comfortable?")


async def test_started_in_a_channel_it_moves_to_a_dm_and_reveals_the_concern(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [intro] = await chat.push("roleplay security medium", dm=False)
    assert intro.dm, "a role-play started in a channel continues in a DM"
    scenario = scenario_in(kb, intro)
    assert scenario.topic == "security" and scenario.difficulty == "medium"
    assert scenario.persona.name in intro.text and "hint" in intro.text
    assert any(line in intro.text for line in scenario.opening)

    [turn] = await chat.push(GOOD_QUESTION.format(topic="security"))
    assert turn.text.startswith("**This reply:")
    feedback = [line for line in turn.text.splitlines() if line.startswith("- ")]
    assert 1 <= len(feedback) <= 3
    assert all(line[2:].startswith(("Keep:", "Start:", "Stop:")) for line in feedback)
    assert scenario.hidden_concern.reveal in turn.text, "a good clarifying question reveals it"


async def test_absolutes_and_jargon_end_a_hard_meeting_early_with_a_scorecard(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [intro] = await chat.push("roleplay cost hard")
    scenario = scenario_in(kb, intro)
    bad = "Trust me, it's definitely cheaper and guaranteed. Just use RIs and SPs, never a problem."
    replies = await chat.push(bad)
    assert "ended the meeting early" in replies[-1].text
    scorecard = replies[-1]
    assert scorecard.text.startswith(f"**Scorecard: {scenario.title}**")
    assert "Needs work" in scorecard.text
    assert {f.label for f in scorecard.fields} >= {"Connect", "Condense"}
    assert scenario.model_answers.opening in scorecard.text
    [after] = await chat.push("what is amazon s3")
    assert "Amazon S3" in after.text, "after the scorecard, text is a lookup again"


async def test_hint_end_scorecard_and_the_review_loop(kb: KnowledgeBase, db: Database,
                                                      clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [intro] = await chat.push("roleplay scalability")
    scenario = scenario_in(kb, intro)
    [hint] = await chat.push("hint")
    assert hint.text.startswith("**Hint**") and "Ask:" in hint.text
    assert any(step in hint.text for step in scenario.next_steps), "the hint is this customer's"
    await chat.push("We can add servers.")
    [card] = await chat.push("end")
    assert "You ended the meeting." in card.text and "1 reply:" in card.text
    assert chat.choice("Try again", [card]).value == f"roleplay {scenario.id}"

    [stats] = await chat.push("stats")
    assert "**Role-play**: security – · cost – · scalability 1×" in stats.text

    clock.now += timedelta(days=2)
    replies = await chat.push("review")
    due = replies[-1]
    assert "Objections due for practice" in due.text
    [again] = await chat.click(due.choices[0])
    assert scenario.title in again.text


async def test_a_second_roleplay_asks_first_and_a_restart_keeps_the_session(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [intro] = await chat.push("roleplay cost")
    first = scenario_in(kb, intro)
    [ask] = await chat.push("roleplay security")
    assert "already have a role-play open" in ask.text
    restarted = new_chat(kb, db, clock)  # a new process on the same database
    [resumed] = await restarted.click(restarted.choice("Continue it", [ask]))
    assert first.persona.name in resumed.text
    [turn] = await restarted.push("Review the numbers with me: what does your spend look like?")
    assert turn.text.startswith("**This reply:"), "inside a role-play, 'Review ...' is a reply"
    [ask] = await restarted.push("roleplay security")
    [new] = await restarted.click(restarted.choice("Start the new one", [ask]))
    assert scenario_in(kb, new).topic == "security"


async def test_idle_sessions_expire(kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    await chat.push("roleplay cost easy")
    clock.now += timedelta(minutes=31)
    [expired] = await chat.push("That's a fair point.")
    assert "expired after 30 idle minutes" in expired.text
    [lookup] = await chat.push("what is amazon ec2")
    assert "Amazon EC2" in lookup.text


async def test_hints_follow_the_conversation(kb: KnowledgeBase, db: Database,
                                            clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [intro] = await chat.push("roleplay security medium")
    scenario = scenario_in(kb, intro)
    [first] = await chat.push("hint")
    await chat.push(GOOD_QUESTION.format(topic="security"))  # the concern comes out
    [second] = await chat.push("hint")
    assert first.text != second.text
    assert "Answer the concern" in second.text
    assert any(c.try_text in second.text.replace("\\", "") for c in scenario.concepts)


@pytest.mark.parametrize("line", ["stats", "topics", "review", "help", "Stats"])
async def test_a_bare_command_during_a_roleplay_is_a_command_not_a_reply(
        kb: KnowledgeBase, db: Database, clock: Clock, line: str) -> None:
    chat = new_chat(kb, db, clock)
    [intro] = await chat.push("roleplay cost")
    scenario = scenario_in(kb, intro)
    replies = await chat.push(line)
    assert replies and not any(r.text.startswith("**This reply:") for r in replies), line
    # the role-play is still open: the next line is graded against the same customer
    [turn] = await chat.push("I understand. What does your current spend include?")
    assert turn.text.startswith("**This reply:")
    assert scenario.persona.name in turn.text


async def test_a_command_with_its_arguments_is_a_command_but_a_sentence_is_a_reply(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    await chat.push("roleplay cost")
    domain = kb.domains[0]
    replies = await chat.push(f"quiz {domain.id}")
    assert not any(r.text.startswith("**This reply:") for r in replies)
    [turn] = await chat.push("Quiz your team on what the servers really cost, then we compare.")
    assert turn.text.startswith("**This reply:")


async def test_a_false_claim_is_named_with_the_fact_and_what_to_read(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [intro] = await chat.push("roleplay security medium")
    scenario = scenario_in(kb, intro)
    from bot.roleplay.misconceptions import find_misconceptions

    claim = next(example for m in scenario.misconceptions for example in m.examples
                 if find_misconceptions(example, scenario.misconceptions))
    [turn, *_] = await chat.push(f"I understand. {claim}")
    assert "Stop: false claim" in turn.text and "In fact:" in turn.text
    assert any(c.label.startswith("Read: ") for c in turn.choices)
    score = int(turn.text.split("**This reply: ")[1].split(" ")[0])
    assert score < 70


async def test_the_topic_default_customer_plays_first_then_others(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    chat = new_chat(kb, db, clock)
    [intro] = await chat.push("roleplay cost")
    first = scenario_in(kb, intro)
    assert first.default, "`roleplay cost` plays the documented default customer first"
    await chat.push("end")
    [intro] = await chat.push("roleplay cost")
    second = scenario_in(kb, intro)
    assert second.topic == "cost" and second.id != first.id
