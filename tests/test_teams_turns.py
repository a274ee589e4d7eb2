"""The turn handler in an in-memory adapter: Teams activities in, activities out, no HTTP.

A command after an @mention in a channel, a card submit that updates its card, and a
role-play's multi-turn plain text in the personal chat.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from adapters.teams.bot import TeamsBot
from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.store.database import Database
from tests.conftest import KNOWLEDGE
from tests.teams_fakes import RecordingAdapter, activity_text, card_buttons, channel, personal

SERVICE = "https://smba.trafficmanager.net/emea/"


@pytest.fixture()
def core(kb: KnowledgeBase, db: Database) -> Core:
    return build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(11))


@pytest.fixture()
def adapter(core: Core) -> RecordingAdapter:
    return RecordingAdapter(TeamsBot(core).on_turn)


async def say(adapter: RecordingAdapter, activity: dict[str, Any]) -> list[dict[str, Any]]:
    """Run one turn; the activities the bot sent, as JSON."""
    return await adapter.receive(activity)


def as_json(activity: Any) -> dict[str, Any]:
    return activity.model_dump(by_alias=True, exclude_none=True, mode="json")


async def test_a_command_after_a_mention_in_a_channel(adapter: RecordingAdapter) -> None:
    [reply] = await say(adapter, channel(SERVICE, "topics"))
    assert "Course topics" in activity_text(reply)
    assert card_buttons(reply)[0]["data"]["action_id"] == "quiz.start"
    assert await say(adapter, channel(SERVICE, "topics", mention=False)) == []
    [spaced] = await say(adapter, channel(SERVICE, "&nbsp;  TOPICS&nbsp;\n"))
    assert "Course topics" in activity_text(spaced)


async def test_a_card_submit_updates_the_card_it_came_from(adapter: RecordingAdapter) -> None:
    [question] = await say(adapter, personal(SERVICE, "quiz"))
    first = card_buttons(question)[0]
    assert await say(adapter, personal(SERVICE, value=first["data"], reply_to="card-7")) == []
    [updated] = adapter.updated
    assert updated.id == "card-7"
    assert "Answer:" in activity_text(as_json(updated))
    # The same submit again (a double click, a retried delivery) gets the same result on the
    # same card, marked as a repeat, and counts nothing twice.
    assert await say(adapter, personal(SERVICE, value=first["data"], reply_to="card-7")) == []
    [_, again] = adapter.updated
    assert again.id == "card-7" and "already answered" in activity_text(as_json(again))
    assert "Answer:" in activity_text(as_json(again))


async def test_roleplay_text_is_routed_turn_after_turn_in_the_personal_chat(
        adapter: RecordingAdapter) -> None:
    [opening] = await say(adapter, personal(SERVICE, "roleplay security easy"))
    assert "Role-play" in activity_text(opening)
    [turn] = await say(adapter, personal(SERVICE, "That's a fair concern. What worries you most "
                                         "about where your data is stored?"))
    assert "This reply:" in activity_text(turn)
    [hint] = await say(adapter, personal(SERVICE, "hint"))
    assert "Hint" in activity_text(hint)
    [scorecard] = await say(adapter, personal(SERVICE, "end"))
    assert "Scorecard" in activity_text(scorecard)


async def test_a_private_reply_without_a_connector_falls_back_to_a_pointer(
        adapter: RecordingAdapter) -> None:
    [note] = await say(adapter, channel(SERVICE, "help"))
    assert "Add <b>AWS Quiz</b> for yourself" in note["text"]
