"""Teams end to end over HTTP: activities POSTed to /api/messages of the real aiohttp app, the
replies, card updates, 1:1 chats and the daily post arriving at a fake Bot Connector.

These run in local mode (no app id, no tokens); test_teams_auth.py covers the same endpoint with
an app id and real token checks.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.teams.settings import TeamsSettings
from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.store.database import Database
from tests.conftest import KNOWLEDGE
from tests.teams_fakes import (
    BOT_ID,
    CHANNEL,
    TENANT,
    Bot,
    FakeConnector,
    activity_text,
    card_buttons,
    channel,
    installed,
    personal,
    start_bot,
)

MONDAY_0800_BERLIN = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock(MONDAY_0800_BERLIN)


@pytest.fixture()
def core(kb: KnowledgeBase, db: Database, clock: Clock) -> Core:
    settings = Settings(knowledge_dir=KNOWLEDGE, admins=frozenset({"aad-lead"}))
    return build_core(settings, kb, db=db, rng=random.Random(7), clock=clock)


@pytest.fixture()
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    yield fake
    await fake.close()


@pytest.fixture()
async def bot(core: Core, connector: FakeConnector) -> AsyncIterator[Bot]:
    served = await start_bot(core, TeamsSettings())
    yield served
    await served.server.close()


async def test_personal_command_and_channel_mention_are_answered_where_they_were_asked(
        bot: Bot, connector: FakeConnector, core: Core) -> None:
    assert await bot.post(personal(connector.url, "what is amazon ebs")) == 200
    [call] = connector.activities()
    assert call.path == "/v3/conversations/a:personal-29:alice/activities/" \
        + call.path.rsplit("/", 1)[1]
    assert "Elastic Block Store" in activity_text(call.body)
    assert call.body["from"]["id"] == BOT_ID and call.body["recipient"]["id"] == "29:alice"

    assert await bot.post(channel(connector.url, "topics", thread="1699")) == 200
    reply = connector.activities()[-1]
    assert reply.path.startswith(f"/v3/conversations/{CHANNEL};messageid=1699/activities/")
    assert "Course topics" in activity_text(reply.body)
    assert any(b["data"]["action_id"] == "quiz.start" for b in card_buttons(reply.body))

    before = len(connector.calls)
    assert await bot.post(channel(connector.url, "topics", mention=False)) == 200
    assert len(connector.calls) == before, "channel chatter without a mention is not for us"

    assert core.refs is not None
    ref = await core.refs.get("teams", TENANT, CHANNEL)
    assert ref is not None and ref.reference["serviceUrl"] == connector.url
    assert ref.reference["conversation"]["id"] == CHANNEL, "the channel, not the thread"


async def test_quiz_card_submit_updates_the_card_and_a_double_submit_counts_once(
        bot: Bot, connector: FakeConnector, core: Core) -> None:
    await bot.post(personal(connector.url, "quiz"))
    question = connector.activities()[-1]
    card_id = question.answer["id"]
    buttons = card_buttons(question.body)
    assert [b["title"] for b in buttons][:2] == ["A", "B"]
    assert all(b["type"] == "Action.Submit" for b in buttons)

    submit = personal(connector.url, value=buttons[0]["data"], reply_to=card_id)
    assert await bot.post(submit) == 200
    [update] = connector.updates
    assert update.path == f"/v3/conversations/a:personal-29:alice/activities/{card_id}"
    assert "Answer:" in activity_text(update.body)

    again = personal(connector.url, value=buttons[1]["data"], reply_to=card_id)
    assert await bot.post(again) == 200
    assert len(connector.updates) == 1
    assert "already answered" in activity_text(connector.sent[-1])
    assert await bot.post(personal(connector.url, "stats")) == 200
    assert "1" in activity_text(connector.sent[-1])


async def test_private_replies_asked_in_a_channel_go_to_the_personal_chat(
        bot: Bot, connector: FakeConnector) -> None:
    assert await bot.post(channel(connector.url, "help", user="bob")) == 200
    created = [c for c in connector.calls if c.path == "/v3/conversations"]
    assert created and created[0].body["members"] == [{"id": "29:bob"}]
    assert created[0].body["channelData"] == {"tenant": {"id": TENANT}}
    assert created[0].body["isGroup"] is False
    private, note = connector.activities()
    assert private.path == "/v3/conversations/a:personal-29:bob/activities"
    assert "quiz" in activity_text(private.body) and "daily" in activity_text(private.body)
    assert note.path.startswith(f"/v3/conversations/{CHANNEL}/activities/")
    assert "personal chat" in activity_text(note.body)
    assert "daily" not in activity_text(note.body)


async def test_without_a_personal_chat_the_channel_gets_a_pointer_not_the_private_answer(
        bot: Bot, connector: FakeConnector) -> None:
    connector.refuse_personal = True
    assert await bot.post(channel(connector.url, "help", user="bob")) == 200
    [note] = connector.activities()
    assert "Add <b>AWS Quiz</b> for yourself" in note.body["text"]
    assert "daily" not in note.body["text"]


async def test_roleplay_started_in_a_channel_continues_in_the_personal_chat(
        bot: Bot, connector: FakeConnector) -> None:
    assert await bot.post(channel(connector.url, "roleplay cost easy", user="carol")) == 200
    opening = connector.activities()[0]
    assert opening.path == "/v3/conversations/a:personal-29:carol/activities"
    assert "Role-play" in activity_text(opening.body)
    assert [b["title"] for b in card_buttons(opening.body)] == ["Hint", "End"]

    answer = ("I understand, that's a fair concern. What does your spend look like today, "
              "and what worries you most about the bill?")
    assert await bot.post(personal(connector.url, answer, user="carol", name="Carol")) == 200
    turn = connector.activities()[-1]
    assert turn.path.startswith("/v3/conversations/a:personal-29:carol/activities/")
    assert "This reply:" in activity_text(turn.body)
    assert await bot.post(personal(connector.url, "end", user="carol", name="Carol")) == 200
    assert "Scorecard" in activity_text(connector.sent[-1])


async def test_user_text_cannot_inject_markup_or_mentions(
        bot: Bot, connector: FakeConnector) -> None:
    await bot.post(personal(connector.url, "zzqx <at>Everyone</at> **bold** &amp; <b>x</b>"))
    card = activity_text(connector.sent[-1])  # a card: the lookup offers "did you mean" buttons
    assert "No confident match" in card
    assert r"&lt;at&gt;Everyone&lt;/at&gt; \*\*bold\*\* &amp; &lt;b&gt;x&lt;/b&gt;" in card
    assert "<at>" not in card and "<b>" not in card
    await bot.post(channel(connector.url, "daily on 09:00 <at>Everyone</at>", user="lead"))
    refusal = connector.sent[-2]
    words = activity_text(refusal)
    assert "not a time zone" in words and "<at>" not in words
    assert "&lt;at&gt;Everyone&lt;/at&gt;" in words


async def test_daily_question_is_posted_answered_privately_and_revealed_in_its_thread(
        bot: Bot, connector: FakeConnector, core: Core, clock: Clock) -> None:
    refused = channel(connector.url, "daily on 09:00 Europe/Berlin weekdays", user="bob")
    await bot.post(refused)
    private, _note = connector.activities()
    assert "personal-29:bob" in private.path and "only workspace admins" in \
        activity_text(private.body), "a refusal is private: Bob's personal chat"
    await bot.post(channel(connector.url, "daily on 09:00 Europe/Berlin weekdays", user="lead",
                           name="Lead"))
    confirmation = connector.activities()[-1]
    assert confirmation.path.startswith(f"/v3/conversations/{CHANNEL}/activities/")
    assert "Daily question <b>on</b>" in confirmation.body["text"]

    connector.calls.clear()
    clock.now += timedelta(hours=1, minutes=1)
    assert core.daily is not None
    assert (await core.daily.run_due())["posted"] == 1
    [post] = connector.activities()
    assert post.path == f"/v3/conversations/{CHANNEL}/activities", "a new thread in the channel"
    assert "Question of the day" in activity_text(post.body)
    post_id = post.answer["id"]
    buttons = card_buttons(post.body)

    connector.calls.clear()
    submit = channel(connector.url, value=buttons[0]["data"], thread=post_id, reply_to=post_id,
                     user="erin", name="Erin")
    assert await bot.post(submit) == 200
    feedback = [c for c in connector.activities() if "personal-29:erin" in c.path]
    assert feedback and ("Correct" in activity_text(feedback[0].body)
                         or "Not quite" in activity_text(feedback[0].body))
    in_channel = [c for c in connector.activities() if CHANNEL in c.path]
    assert in_channel == [], "the verdict never shows in the channel"
    [count] = connector.updates
    assert count.path == f"/v3/conversations/{CHANNEL}/activities/{post_id}"
    assert "1 person has answered" in activity_text(count.body)

    connector.calls.clear()
    clock.now += timedelta(hours=5)
    assert (await core.daily.run_due())["revealed"] == 1
    [reveal] = connector.activities()
    assert reveal.path == f"/v3/conversations/{CHANNEL};messageid={post_id}/activities/{post_id}"
    assert reveal.body["replyToId"] == post_id
    assert "Answer:" in activity_text(reveal.body) and "Erin" in activity_text(reveal.body)
    [closed] = connector.updates
    assert "The answer is in the thread" in activity_text(closed.body)


async def test_install_saves_the_channel_and_uninstall_forgets_it(
        bot: Bot, connector: FakeConnector, core: Core) -> None:
    assert core.refs is not None
    assert await bot.post(installed(connector.url, "add")) == 200
    assert await core.refs.get("teams", TENANT, CHANNEL) is not None
    assert await bot.post(installed(connector.url, "remove")) == 200
    assert await core.refs.get("teams", TENANT, CHANNEL) is None
    assert connector.calls == []


async def test_removing_the_app_from_a_team_forgets_all_its_channels_and_daily_questions(
        bot: Bot, connector: FakeConnector, core: Core) -> None:
    assert core.refs is not None and core.daily is not None
    other = "19:other-channel@thread.tacv2"
    elsewhere = channel(connector.url, "help")
    elsewhere["conversation"]["id"] = other
    elsewhere["channelData"]["channel"] = {"id": other}
    assert await bot.post(channel(connector.url, "help")) == 200
    assert await bot.post(elsewhere) == 200
    await core.daily.store.subscribe("teams", TENANT, other, "09:00", "UTC", "daily", 60, "x")
    saved = await core.refs.get("teams", TENANT, other)
    assert saved is not None
    from adapters.teams.inbound import load_reference

    assert load_reference(saved).conversation.id == other, "our team key does not disturb the SDK"
    assert await bot.post(installed(connector.url, "remove")) == 200
    assert await core.refs.get("teams", TENANT, CHANNEL) is None
    assert await core.refs.get("teams", TENANT, other) is None
    sub = await core.daily.store.subscription("teams", TENANT, other)
    assert sub is not None and not sub.enabled
    from sqlalchemy import select

    from bot.store.tables import tenant_removals

    assert core.db is not None
    left = await core.refs.all("teams", TENANT)
    assert left, "the personal chat the help reply went to is still there"
    assert await core.db.rows(select(tenant_removals)) == [], "still installed for someone"
    for ref in left:  # the app is removed from the personal scope too: nothing of it is left
        uninstall = personal(connector.url)
        uninstall.update({"type": "installationUpdate", "action": "remove", "text": None})
        uninstall["conversation"]["id"] = ref.channel
        assert await bot.post(uninstall) == 200
    removed = await core.db.rows(select(tenant_removals.c.platform, tenant_removals.c.tenant))
    assert [(r.platform, r.tenant) for r in removed] == [("teams", TENANT)], \
        "the tenant's learner data is deleted after the retention period (docs/privacy.md)"


async def test_a_retried_delivery_is_answered_once_and_a_personal_install_is_welcomed(
        bot: Bot, connector: FakeConnector) -> None:
    activity = personal(connector.url, "topics")
    assert await bot.post(activity) == 200
    assert await bot.post(activity) == 200, "the Bot Framework retried the same activity"
    assert len(connector.activities()) == 1
    welcome = personal(connector.url, user="frank", name="Frank")
    welcome.update(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    assert await bot.post(welcome) == 200
    assert "aws-quiz" in activity_text(connector.sent[-1]) and "quiz" in connector.sent[-1]["text"]


async def test_bad_requests_get_4xx_and_loopback_is_required_in_local_mode(
        bot: Bot, connector: FakeConnector) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.post(bot.url, data="hello", headers={"Content-Type": "text/plain"}) \
                as response:
            assert response.status == 415
        async with session.post(bot.url, data="{not json",
                                headers={"Content-Type": "application/json"}) as response:
            assert response.status == 400
    assert await bot.post({"text": "no type"}) == 400
    assert await bot.post(personal("https://smba.trafficmanager.net/emea/", "help")) == 403
    assert connector.calls == []


async def test_a_daily_post_with_an_unknown_outcome_is_never_sent_twice_and_admins_are_told(
        bot: Bot, connector: FakeConnector, core: Core, clock: Clock) -> None:
    """Teams cannot be asked whether a post landed, so the daily post is at most once."""
    await bot.post(channel(connector.url, "daily on 09:00 Europe/Berlin weekdays", user="lead",
                           name="Lead"))
    clock.now += timedelta(hours=1, minutes=1)
    assert core.daily is not None
    connector.calls.clear()
    connector.failures = [(429, {"Retry-After": "0"}), (400, {})]  # clearly not delivered
    counts = await core.daily.run_due()
    assert counts["failed"] == 1 and counts["posted"] == 0
    connector.failures = [(502, {})]  # the connector may or may not have posted it
    assert (await core.daily.run_due())["posted"] == 0
    attempts = [c for c in connector.activities() if c.path == f"/v3/conversations/{CHANNEL}"
                "/activities"]
    assert len(attempts) == 3, "429 retried, 400 tried again next pass, the 502 never retried"
    clock.now += core.daily.lease * 3
    assert (await core.daily.run_due())["posted"] == 0
    assert len([c for c in connector.activities() if c.path.endswith(f"{CHANNEL}/activities")]) \
        == 3, "no second question, even after the claim's lease"
    await bot.post(channel(connector.url, "daily status", user="lead", name="Lead"))
    assert any("may not have arrived" in text for text in connector.texts()[-2:])
