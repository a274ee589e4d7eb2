"""Cheap refusals: whatever arrives at /slack/events or /api/messages unsigned, unauthenticated
or malformed gets a 4xx and at most one short log line, never a 500 or a traceback; numbers in
commands and buttons are bounded before they are parsed.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters.server import create_app
from adapters.slack.factory import build_slack_adapter
from adapters.teams.settings import TeamsSettings
from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Action, Context, Message
from bot.store.database import Database
from tests.conftest import KNOWLEDGE, run_cli
from tests.slack_fakes import FakeSlack, sign, slash_body
from tests.teams_fakes import APP_ID, FakeConnector, personal, start_bot

SECRET = "refusal-signing-secret"


def malformed_slack_requests(n: int, seed: int = 12) -> list[tuple[bytes, dict[str, str]]]:
    """`n` requests an attacker or a broken proxy could send, none carrying a valid signature."""
    rng = random.Random(seed)
    now = str(int(time.time()))
    bodies: list[bytes] = [
        b"", b"{", b"[]", b"null", b"\xff\xfe\x00garbage", b"payload=%7Bnot-json",
        b"payload=" + b"%5B" * 2000, b"{" * 5000, b'{"type": "event_callback"}',
        b"token=x&team_id=T1&command=/aws-quiz&text=help", "πλ=ü".encode(),
        json.dumps({"type": "url_verification", "challenge": "x"}).encode(),
    ]
    headers_choices: list[dict[str, str]] = [
        {}, {"X-Slack-Request-Timestamp": now},
        {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "9" * 4400, "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "١٢٣", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "garbage"},
        {"X-Slack-Request-Timestamp": str(int(time.time()) - 3600)},
    ]
    content_types = ["application/json", "application/x-www-form-urlencoded", "text/plain",
                     "multipart/form-data; boundary=x"]
    out = []
    for i in range(n):
        body = bodies[i % len(bodies)] if i < 60 else bytes(
            rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        headers = dict(headers_choices[i % len(headers_choices)])
        headers["Content-Type"] = content_types[i % len(content_types)]
        out.append((body, headers))
    return out


def our_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the server logged (serve runs without an access log; the test server has one)."""
    return [r for r in caplog.records if r.levelno >= logging.INFO
            and not r.name.startswith(("asyncio", "sqlalchemy", "aiohttp.access"))]


def assert_quiet(records: list[logging.LogRecord], requests: int) -> None:
    assert not [r for r in records if r.exc_info or r.exc_text], "no traceback is logged"
    assert len(records) <= requests, "at most one log line per request"
    assert all(len(r.getMessage()) < 200 and "\n" not in r.getMessage() for r in records)


@pytest.fixture()
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.close()


@pytest.fixture()
async def slack_url(kb: KnowledgeBase, tmp_path: Path,
                    fake: FakeSlack) -> AsyncIterator[tuple[str, Core]]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'refusals.db'}")
    await db.upgrade()
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(1))
    adapter = build_slack_adapter(core, {"SLACK_BOT_TOKEN": "xoxb-refusals",
                                         "SLACK_SIGNING_SECRET": SECRET,
                                         "SLACK_API_URL": fake.api_url})
    assert adapter is not None
    server = TestServer(create_app(core, [adapter], scheduler_interval=None), host="127.0.0.1",
                        port=0)
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}/slack/events", core
    await server.close()
    await db.dispose()


async def test_200_malformed_unsigned_slack_requests_get_4xx_one_short_line_and_no_work(
        slack_url: tuple[str, Core], fake: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    url, _ = slack_url
    requests = malformed_slack_requests(200)
    statuses: dict[int, int] = {}
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as session:
        for body, headers in requests:
            async with session.post(url, data=body, headers=headers) as response:
                statuses[response.status] = statuses.get(response.status, 0) + 1
    assert set(statuses) <= {400, 401, 413}, statuses
    assert statuses.get(401, 0) >= 150, "without a valid signature the answer is 401"
    assert_quiet(our_records(caplog), len(requests))
    assert fake.calls == [] and fake.responses == [], "nothing reached Slack's API"


async def test_signed_but_malformed_bodies_get_400_not_500(
        slack_url: tuple[str, Core], caplog: pytest.LogCaptureFixture) -> None:
    url, _ = slack_url
    caplog.set_level(logging.INFO)
    bodies = ["[1, 2]", "{", "payload=%7Bnope", "payload=%5B%5D", '{"type": 5}',
              '{"type": "event_callback", "event": "not an object"}']
    async with aiohttp.ClientSession() as session:
        for body in bodies:
            kind = "application/json" if body[:1] in "[{" else "application/x-www-form-urlencoded"
            headers = {"Content-Type": kind, **sign(SECRET, body)}
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status in (200, 400, 404), (body, response.status)
    assert_quiet(our_records(caplog), len(bodies))


async def test_a_4300_digit_exam_size_is_bounded_before_parsing(
        slack_url: tuple[str, Core], fake: FakeSlack) -> None:
    url, _ = slack_url
    body = slash_body("exam " + "9" * 4400, response_url=fake.response_url(1))
    async with aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
        async with session.post(url, data=body, headers=headers) as response:
            assert response.status == 200
    await fake.wait_for(lambda: bool(fake.responses), timeout=10)
    assert "A practice exam has 1 to 100 questions" in fake.responses[0][1]["text"]


async def test_numbers_in_commands_and_buttons_never_crash_the_core(core: Core) -> None:
    ctx = Context(platform="console", tenant="T1", user="u1", user_name="U1", channel="c1",
                  direct=True)
    for text in ("exam " + "9" * 5000, "exam ²", "exam ٣", "exam 0", "exam -4"):
        replies = await core.router.handle(Message(ctx, text))
        assert replies and replies[0].text
    for action_id in ("quiz.answer", "daily.answer"):
        for value in ("x:" + "9" * 5000, "x:²", "x:-1", ":", ""):
            [reply] = await core.router.handle_action(Action(ctx, action_id, value))
            assert "no longer" in reply.text or "expired" in reply.text


def test_console_survives_a_huge_number() -> None:
    result = run_cli("chat", "--user", "ann", stdin="quiz\n" + "9" * 5000 + "\nhelp\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "pick a number" in result.stdout


# -- Teams -------------------------------------------------------------------------------------

@pytest.fixture()
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    yield fake
    await fake.close()


def malformed_activities(service_url: str) -> list[tuple[bytes, dict[str, str]]]:
    good = personal(service_url, "help")
    variants: list[Any] = [b"", b"{", b"\xff\xfe", b"[]", b"null", b"1", b"{}",
                           json.dumps({**good, "type": None}).encode(),
                           json.dumps({**good, "type": 7}).encode(),
                           json.dumps({**good, "conversation": None}).encode(),
                           json.dumps({**good, "serviceUrl": None}).encode(),
                           json.dumps({**good, "conversation": "x"}).encode(),
                           json.dumps({**good, "from": [1]}).encode(),
                           b"{" * 5000]
    return [(body, {"Content-Type": kind}) for body in variants
            for kind in ("application/json", "text/plain")]


@pytest.mark.parametrize("local", [True, False], ids=["local-mode", "app-id"])
async def test_malformed_or_unauthenticated_activities_get_4xx_and_no_traceback(
        core: Core, connector: FakeConnector, caplog: pytest.LogCaptureFixture,
        local: bool) -> None:
    settings = TeamsSettings() if local else TeamsSettings(app_id=APP_ID, app_password="pw-123456",
                                                          owner_check=False)
    bot = await start_bot(core, settings)
    caplog.set_level(logging.INFO)
    caplog.clear()  # the local-mode banner at start is meant to be loud
    requests = malformed_activities(connector.url)
    requests += [(json.dumps(personal(connector.url, "help")).encode(),
                  {"Content-Type": "application/json", "Authorization": auth})
                 for auth in ("Bearer", "Bearer x.y.z", "Basic abc", "Bearer " + "a" * 3000)]
    statuses: list[int] = []
    try:
        async with aiohttp.ClientSession() as session:
            for body, headers in requests:
                async with session.post(bot.url, data=body, headers=headers) as response:
                    statuses.append(response.status)
                    assert response.status < 500, (body[:80], headers, response.status)
    finally:
        await bot.server.close()
    # An activity of a type nobody handles (type 7 read as "7") is ignored with 200, as the
    # Bot Framework expects; everything else here is refused.
    assert sum(400 <= s < 500 for s in statuses) >= len(requests) - 2
    assert_quiet(our_records(caplog), len(requests))
    assert connector.calls == []


def test_loopback_is_decided_on_the_host_the_http_client_would_reach() -> None:
    from adapters.teams.adapter import is_loopback

    for url in ("http://127.0.0.1:3978/", "http://localhost:8080/x", "http://[::1]:80/"):
        assert is_loopback(url), url
    for url in ("http://169.254.169.254\\@127.0.0.1", "http://169.254.169.254\\@127.0.0.1/",
                "http://evil@127.0.0.1/", "http://127.0.0.1:80@evil.example/",
                "http://127.0.0.1.nip.io/", "http://2130706433/", "ftp://127.0.0.1/",
                "http://127.0.0.1 /", "http://127.0.0.1\t/", "", None):
        assert not is_loopback(url), url


async def test_local_mode_refuses_a_service_url_that_only_looks_like_loopback(
        core: Core, connector: FakeConnector) -> None:
    bot = await start_bot(core, TeamsSettings())
    try:
        sneaky = connector.url.replace("http://", "http://169.254.169.254\\@")
        assert await bot.post(personal(sneaky, "help")) == 403
        assert await bot.post(personal(connector.url, "help")) == 200
    finally:
        await bot.server.close()
    assert len(connector.calls) >= 1 and all("169.254" not in c.path for c in connector.calls)
