"""The Slack adapter over real HTTP on 127.0.0.1, against a fake of Slack's Web API."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from adapters.server import create_app
from adapters.slack.factory import build_slack_adapter
from adapters.slack.outbound import ChannelPacer
from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.store.database import Database
from bot.store.tables import answers, showings
from tests.conftest import KNOWLEDGE
from tests.slack_fakes import FakeSlack, action_body, event_body, sign, slash_body

SECRET = "test-signing-secret"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'slack.db'}")
    await db.upgrade()
    yield db
    await db.dispose()


@pytest.fixture()
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack(admins={"UADMIN"}).start()
    yield slack
    await slack.close()


class Harness:
    """Our app served on 127.0.0.1 plus helpers to send what Slack would send."""

    def __init__(self, core: Core, fake: FakeSlack, server: TestServer) -> None:
        self.core = core
        self.fake = fake
        self.server = server
        self.session = aiohttp.ClientSession()
        self.response_n = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None,
                   secret: str = SECRET) -> aiohttp.ClientResponse:
        all_headers = {"Content-Type": content_type, **sign(secret, body), **(headers or {})}
        async with self.session.post(f"{self.url}/slack/events", data=body,
                                     headers=all_headers) as response:
            await response.read()
            return response

    async def command(self, text: str, user: str = "U1", channel: str = "C1",
                      team: str = "T1") -> dict[str, Any]:
        """Run a slash command; return what arrived at its response_url."""
        self.response_n += 1
        before = len(self.fake.responses)
        started = time.monotonic()
        response = await self.post(slash_body(text, user, channel, team,
                                              self.fake.response_url(self.response_n)),
                                   "application/x-www-form-urlencoded")
        assert response.status == 200
        assert time.monotonic() - started < 3, "acknowledged within Slack's 3 seconds"
        await self.fake.wait_for(lambda: len(self.fake.responses) > before)
        return self.fake.responses[-1][1]

    async def press(self, button: dict[str, Any], user: str = "U1", channel: str = "C1",
                    expect_response: bool = True) -> dict[str, Any] | None:
        self.response_n += 1
        before = len(self.fake.responses)
        response = await self.post(action_body(button["action_id"], button["value"], user,
                                               channel, response_url=self.fake.response_url(
                                                   self.response_n)),
                                   "application/x-www-form-urlencoded")
        assert response.status == 200
        if not expect_response:
            return None
        await self.fake.wait_for(lambda: len(self.fake.responses) > before)
        return self.fake.responses[-1][1]

    async def event(self, event: dict[str, Any], event_id: str,
                    headers: dict[str, str] | None = None) -> int:
        response = await self.post(event_body(event, event_id), "application/json", headers)
        return response.status

    async def close(self) -> None:
        await self.session.close()
        await self.server.close()


def make_core(kb: KnowledgeBase, db: Database, clock: Clock | None = None) -> Core:
    settings = Settings(knowledge_dir=KNOWLEDGE, admins=frozenset({"ULEAD"}))
    return build_core(settings, kb, db=db, rng=random.Random(11), clock=clock or Clock())


async def start(core: Core, fake: FakeSlack, env: dict[str, str] | None = None) -> Harness:
    environment = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                   "SLACK_API_URL": fake.api_url, **(env or {})}
    adapter = build_slack_adapter(core, environment)
    assert adapter is not None
    adapter.pacer.interval = 0.01
    server = TestServer(create_app(core, [adapter], scheduler_interval=None), host="127.0.0.1",
                        port=0)
    await server.start_server()
    return Harness(core, fake, server)


@pytest.fixture()
async def harness(kb: KnowledgeBase, sqlite_db: Database,
                  fake: FakeSlack) -> AsyncIterator[Harness]:
    h = await start(make_core(kb, sqlite_db), fake)
    yield h
    await h.close()


def texts(payload: dict[str, Any]) -> str:
    parts = [payload.get("text", "")]
    for block in payload.get("blocks", []):
        if "text" in block:
            parts.append(block["text"]["text"])
        for f in block.get("fields", []):
            parts.append(f["text"])
    return "\n".join(parts)


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in payload.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


async def count_answers(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(answers))).scalar() or 0)


async def test_forged_or_stale_requests_get_401_and_change_nothing(
        harness: Harness, sqlite_db: Database) -> None:
    body = slash_body("quiz", response_url=harness.fake.response_url())
    forged = await harness.post(body, "application/x-www-form-urlencoded", secret="wrong")
    assert forged.status == 401
    stale = await harness.post(body, "application/x-www-form-urlencoded",
                               headers=sign(SECRET, body, int(time.time()) - 3600))
    assert stale.status == 401
    await asyncio.sleep(0.2)
    assert harness.fake.responses == [] and harness.fake.of("users.info") == []
    async with sqlite_db.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(showings))).scalar() == 0


async def test_slash_command_answers_ephemerally_in_block_kit(harness: Harness) -> None:
    payload = await harness.command("help")
    assert payload["response_type"] == "ephemeral"
    assert "`quiz [topic]`" in texts(payload)
    lookup = await harness.command("what is a nacl")
    assert "Network access control" in texts(lookup)
    assert any(b["action_id"].startswith("ask.entry:") for b in buttons(lookup))


async def test_user_text_is_escaped_when_echoed(harness: Harness) -> None:
    payload = await harness.command("<!channel> <@U999> pizza & beer")
    shown = texts(payload)
    assert "&lt;!channel&gt; &lt;@U999&gt; pizza &amp; beer" in shown
    assert "<!channel>" not in shown and "<@U999>" not in shown


async def test_quiz_button_replaces_the_question_and_double_clicks_count_once(
        harness: Harness, sqlite_db: Database) -> None:
    question = await harness.command("quiz Amazon S3")
    answer_buttons = [b for b in buttons(question) if b["action_id"].startswith("quiz.answer:")]
    assert len(answer_buttons) >= 2
    assert buttons(question)[-1]["action_id"].startswith("report.start:"), "report comes last"
    assert len({b["action_id"] for b in answer_buttons}) == len(answer_buttons)
    pressed = answer_buttons[0]
    result = await harness.press(pressed)
    assert result is not None
    pressed_ids = {pressed["action_id"]}
    while "to go)" in texts(result):  # a choose-two question: pick another (unpicked) option
        remaining = [b for b in buttons(result) if b["action_id"].startswith("quiz.answer:")
                     and b["action_id"] not in pressed_ids]
        pressed_ids.add(remaining[0]["action_id"])
        result = await harness.press(remaining[0])
        assert result is not None
    assert result["replace_original"] is True
    assert "Correct!" in texts(result) or "Not quite." in texts(result)
    assert not [b for b in buttons(result) if b["action_id"].startswith("quiz.answer:")], \
        "the replaced message has no answer buttons left"
    again = await harness.press(pressed)
    assert again is not None and "already answered" in texts(again)
    assert await count_answers(sqlite_db) == 1


async def test_dm_messages_are_handled_once_and_bot_messages_ignored(harness: Harness) -> None:
    event = {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1",
             "text": "what is amazon s3", "ts": "1700000000.000100"}
    assert await harness.event(event, "Ev1") == 200
    await harness.fake.wait_for(lambda: len(harness.fake.of("chat.postMessage")) == 1)
    post = harness.fake.of("chat.postMessage")[0].params
    assert post["channel"] == "DU1" and "Amazon S3" in json.dumps(post)

    assert await harness.event(event, "Ev1", headers={"X-Slack-Retry-Num": "1",
                                                      "X-Slack-Retry-Reason": "timeout"}) == 200
    assert await harness.event(event, "Ev2") == 200  # same message, new event id
    for ignored in ({**event, "ts": "2.0", "bot_id": "B1"},
                    {**event, "ts": "3.0", "subtype": "message_changed"},
                    {**event, "ts": "4.0", "subtype": "message_deleted"},
                    {**event, "ts": "5.0", "user": "UBOT"},
                    {**event, "ts": "6.0", "channel_type": "channel", "channel": "C1"}):
        assert await harness.event(ignored, f"Ev-{ignored['ts']}") == 200
    await asyncio.sleep(0.3)
    assert len(harness.fake.of("chat.postMessage")) == 1


async def test_app_home_shows_the_dashboard_and_its_buttons_work(harness: Harness) -> None:
    event = {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home"}
    assert await harness.event(event, "EvHome") == 200
    await harness.fake.wait_for(lambda: bool(harness.fake.of("views.publish")))
    call = harness.fake.of("views.publish")[0].params
    view = json.loads(call["view"]) if isinstance(call["view"], str) else call["view"]
    assert call["user_id"] == "U1" and view["type"] == "home"
    shown = texts({"blocks": view["blocks"]})
    assert "Your progress" in shown and "Study now" in shown
    start_quiz = next(e for b in view["blocks"] if b["type"] == "actions"
                      for e in b["elements"] if e["value"] == "quiz")
    body = action_body(start_quiz["action_id"], start_quiz["value"], in_view=True)
    response = await harness.post(body, "application/x-www-form-urlencoded")
    assert response.status == 200
    await harness.fake.wait_for(lambda: bool(harness.fake.of("chat.postMessage")))
    assert harness.fake.of("conversations.open")[0].params["users"] == "U1"
    posted = harness.fake.of("chat.postMessage")[0].params
    assert posted["channel"] == "DU1" and "quiz.answer" in json.dumps(posted)


async def test_daily_question_in_slack_admins_only_posts_counts_and_reveals(
        kb: KnowledgeBase, sqlite_db: Database, fake: FakeSlack) -> None:
    clock = Clock()
    clock.now = datetime(2026, 11, 6, 9, 30, tzinfo=UTC)  # a Friday
    core = make_core(kb, sqlite_db, clock)
    h = await start(core, fake)
    try:
        refused = await h.command("daily on 09:00 UTC daily", user="U1")
        assert "only workspace admins" in texts(refused)
        on = await h.command("daily on 09:00 UTC daily reveal 1h", user="UADMIN")
        assert "Daily question *on*" in texts(on)
        assert core.daily is not None
        assert (await core.daily.run_due())["posted"] == 1
        post = fake.of("chat.postMessage")[-1].params
        assert post["channel"] == "C1" and "Question of the day" in post["text"]
        question_buttons = [e for b in json.loads(post["blocks"]) if b["type"] == "actions"
                            for e in b["elements"]] if isinstance(post["blocks"], str) else \
            buttons(post)
        post_id = question_buttons[0]["value"].split(":")[0]
        stored = await core.daily.store.post(post_id)
        assert stored is not None
        right = kb.questions[stored.question_id].answer
        pressed = next(b for b in question_buttons
                       if ":" in b["value"] and int(b["value"].split(":")[1]) in right)
        feedback = await h.press(pressed, user="U2")  # a right answer: the board names U2
        assert feedback is not None and feedback["response_type"] == "ephemeral"
        assert feedback["replace_original"] is False
        await fake.wait_for(lambda: bool(fake.of("chat.update")))
        update = fake.of("chat.update")[-1].params
        [question] = fake.questions("C1")
        assert update["ts"] == question["ts"] and "1 person has answered" in update["text"]
        clock.now += timedelta(hours=1, minutes=1)
        assert (await core.daily.run_due())["revealed"] == 1
        reveal = fake.of("chat.postMessage")[-1].params
        assert reveal["thread_ts"] == question["ts"] and "Answer:" in reveal["text"]
        assert "leaderboard" in reveal["text"], "Fridays add the week's leaderboard"
    finally:
        await h.close()


async def test_rate_limited_posts_are_retried_after_retry_after(
        harness: Harness, fake: FakeSlack) -> None:
    fake.throttle["chat.postMessage"] = 1
    event = {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1",
             "text": "topics", "ts": "1700000000.000200"}
    started = time.monotonic()
    await harness.event(event, "EvRate")
    await harness.fake.wait_for(lambda: len(fake.of("chat.postMessage")) == 2, timeout=10)
    assert time.monotonic() - started >= 1.0, "waited for Retry-After"


async def test_pacer_spaces_messages_per_channel() -> None:
    pacer = ChannelPacer(interval=0.2)
    started = time.monotonic()
    for _ in range(3):
        await pacer.wait("C1")
    await pacer.wait("C2")
    assert 0.4 <= time.monotonic() - started < 1.5


async def test_oauth_install_stores_the_workspace_and_uninstall_removes_it(
        kb: KnowledgeBase, sqlite_db: Database, fake: FakeSlack) -> None:
    core = make_core(kb, sqlite_db)
    h = await start(core, fake, {"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": "111.222",
                                 "SLACK_CLIENT_SECRET": "client-secret"})
    try:
        async with h.session.get(f"{h.url}/slack/install", allow_redirects=False) as response:
            page = await response.text()
            assert response.status == 200 and "client_id=111.222" in page
            state = page.split("state=")[1].split("&")[0].split('"')[0]
            cookie = response.headers["Set-Cookie"].split(";")[0]  # Secure: the browser's part
        async with h.session.get(f"{h.url}/slack/oauth_redirect?code=abc&state={state}",
                                 allow_redirects=False,
                                 headers={"Cookie": cookie}) as response:
            assert response.status == 200, await response.text()
        assert fake.of("oauth.v2.access")[0].params["code"] == "abc"
        payload = await h.command("help", team="T9")
        assert "quiz" in texts(payload)
        auth = fake.of("users.info")[-1].headers.get("Authorization", "")
        assert auth == "Bearer xoxb-installed-token"
        assert await h.event({"type": "app_uninstalled"}, "EvUninstall") == 200
        uninstall = event_body({"type": "app_uninstalled"}, "EvUninstall9", team="T9")
        await h.post(uninstall, "application/json")
        store = build_slack_adapter(core, {"SLACK_CLIENT_ID": "111.222",
                                           "SLACK_CLIENT_SECRET": "x",
                                           "SLACK_SIGNING_SECRET": SECRET,
                                           "SLACK_API_URL": fake.api_url})
        assert store is not None and store.installation_store is not None
        for _ in range(50):
            if await store.installation_store.async_find_bot(enterprise_id=None,
                                                             team_id="T9") is None:
                break
            await asyncio.sleep(0.05)
        assert await store.installation_store.async_find_bot(enterprise_id=None,
                                                             team_id="T9") is None
    finally:
        await h.close()


async def test_socket_mode_receives_commands_over_the_websocket(
        kb: KnowledgeBase, sqlite_db: Database, fake: FakeSlack) -> None:
    core = make_core(kb, sqlite_db)
    adapter = build_slack_adapter(core, {"SLACK_BOT_TOKEN": "xoxb-test",
                                         "SLACK_APP_TOKEN": "xapp-test",
                                         "SLACK_API_URL": fake.api_url})
    assert adapter is not None and not adapter.http_enabled
    await adapter.start()
    try:
        payload = {"team_id": "T1", "channel_id": "C1", "user_id": "U1", "user_name": "u1",
                   "command": "/aws-quiz", "text": "topics", "api_app_id": "A1",
                   "response_url": fake.response_url(7)}
        await fake.push_envelope("slash_commands", payload, "env-1")
        await fake.wait_for(lambda: any(a.get("envelope_id") == "env-1" for a in fake.acks))
        await fake.wait_for(lambda: bool(fake.responses))
        assert "Course topics" in texts(fake.responses[-1][1])
        assert fake.of("apps.connections.open")[0].headers["Authorization"] == "Bearer xapp-test"
    finally:
        await adapter.stop()


async def test_roleplay_from_a_channel_opens_a_dm_and_continues_there(
        harness: Harness, fake: FakeSlack) -> None:
    notice = await harness.command("roleplay cost", channel="C1")
    assert notice["response_type"] == "ephemeral" and "direct message" in notice["text"]
    await fake.wait_for(lambda: bool(fake.of("chat.postMessage")))
    assert fake.of("conversations.open")[0].params["users"] == "U1"
    opening = fake.of("chat.postMessage")[0].params
    assert opening["channel"] == "DU1" and "Role-play" in opening["text"]
    event = {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1",
             "text": "I understand, that's a fair concern. What does your spend look like today?",
             "ts": "1700000001.000100"}
    assert await harness.event(event, "EvRp1") == 200
    await fake.wait_for(lambda: len(fake.of("chat.postMessage")) == 2)
    turn = fake.of("chat.postMessage")[1].params
    assert turn["channel"] == "DU1" and "This reply:" in turn["text"]
    assert await harness.event(event, "EvRp1", headers={"X-Slack-Retry-Num": "1"}) == 200
    await asyncio.sleep(0.3)
    assert len(fake.of("chat.postMessage")) == 2, "a retried delivery is not graded again"


async def test_a_channel_the_bot_is_not_in_switches_the_daily_question_off_once(
        kb: KnowledgeBase, sqlite_db: Database, fake: FakeSlack) -> None:
    clock = Clock()
    clock.now = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
    core = make_core(kb, sqlite_db, clock)
    h = await start(core, fake)
    try:
        fake.not_in.add("C7")
        await h.command("daily on 09:00 UTC daily", user="UADMIN", channel="C7")
        assert core.daily is not None
        counts = await core.daily.run_due()
        assert counts == {"posted": 0, "revealed": 0, "failed": 0}
        assert len(fake.of("chat.postMessage")) == 1
        status = await h.command("daily status", channel="C7")
        assert "off for this channel" in texts(status)
        await core.daily.run_due()
        assert len(fake.of("chat.postMessage")) == 1, "no retry storm against a closed door"
    finally:
        await h.close()


async def test_an_ambiguous_daily_post_is_looked_up_by_its_metadata_and_never_posted_twice(
        kb: KnowledgeBase, sqlite_db: Database, fake: FakeSlack) -> None:
    clock = Clock()
    clock.now = datetime.now(UTC).replace(hour=10, minute=0)
    fake.clock = lambda: clock.now.timestamp()  # Slack's clock and ours agree
    core = make_core(kb, sqlite_db, clock)
    h = await start(core, fake)
    try:
        assert core.daily is not None
        core.daily.lease = timedelta(seconds=2)  # a post call is given up after 1 s
        for channel in ("C1", "C2", "C3", "C4"):
            await h.command("daily on 09:00 UTC daily reveal 1h", user="UADMIN", channel=channel)
        fake.slow_seconds = 3.0
        fake.ambiguous = ["500", "slow", "lost", "500"]  # every first answer goes wrong
        first = await core.daily.run_due()
        assert first["failed"] == 4 and first["posted"] == 0
        second = await core.daily.run_due()
        assert second["posted"] == 4 and second["failed"] == 0
        for channel in ("C1", "C2", "C3", "C4"):
            assert len(fake.questions(channel)) == 1, f"{channel} got exactly one question"
            [message] = fake.questions(channel)
            assert message["metadata"]["event_type"] == "aws_quiz_daily"
        lookups = fake.of("conversations.history")
        assert len(lookups) == 4 and all(c.params["include_all_metadata"] in ("1", "true", True)
                                         for c in lookups)
        assert (await core.daily.run_due())["posted"] == 0

        clock.now += timedelta(hours=1, minutes=1)
        fake.ambiguous = ["500", "lost"]
        revealed = await core.daily.run_due()
        assert revealed["revealed"] == 2 and revealed["failed"] == 2
        assert (await core.daily.run_due())["revealed"] == 2
        assert fake.of("conversations.replies"), "a reveal is looked up in its thread"
        for channel in ("C1", "C2", "C3", "C4"):
            [question] = fake.questions(channel)
            answers = [m for m in fake.thread(channel, question["ts"]) if "Answer:" in m["text"]]
            assert len(answers) == 1, f"{channel} got exactly one reveal"
    finally:
        await h.close()
