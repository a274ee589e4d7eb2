"""Outbound calls to Teams: retried on 429 and 5xx with backoff, one token fetched and shared,
refreshed before it expires without holding up the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.teams.adapter import TeamsAdapter
from adapters.teams.http import HttpClient, RetryPolicy, parse_retry_after
from adapters.teams.settings import TeamsSettings
from adapters.teams.tokens import CachedToken, ClientCredentials, TokenError
from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import ConversationRef, Reply
from tests.conftest import KNOWLEDGE
from tests.teams_fakes import APP_ID, BOT_ID, CHANNEL, TENANT, FakeConnector

PASSWORD = "s3cret-password"


class Sleeps:
    """Records backoff waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector(require_token=True).start()
    yield fake
    await fake.close()


@pytest.fixture()
def core(kb: KnowledgeBase) -> Core:
    return build_core(Settings(knowledge_dir=KNOWLEDGE), kb)


def channel_ref(connector: FakeConnector) -> ConversationRef:
    return ConversationRef("teams", TENANT, CHANNEL, {
        "bot": {"id": BOT_ID, "name": "AWS Quiz"}, "channelId": "msteams",
        "serviceUrl": connector.url,
        "conversation": {"id": CHANNEL, "conversationType": "channel", "tenantID": TENANT}})


def adapter_for(core: Core, connector: FakeConnector, sleeps: Sleeps) -> TeamsAdapter:
    settings = TeamsSettings(app_id=APP_ID, app_password=PASSWORD,
                             login_url=connector.login_url(), owner_check=False)
    return TeamsAdapter(core, settings, http=HttpClient(sleep=sleeps))


async def test_429_and_5xx_are_retried_with_backoff_honouring_retry_after(
        core: Core, connector: FakeConnector) -> None:
    sleeps = Sleeps()
    adapter = adapter_for(core, connector, sleeps)  # not started: as `daily run-due` uses it
    connector.failures = [(429, {"retry-after": "2"}), (503, {})]
    message_id = await adapter.outbound.post(channel_ref(connector), Reply("**Hello** team"))
    posts = connector.activities()
    assert len(posts) == 3 and message_id == posts[-1].answer["id"]
    assert sleeps.waits[0] == 2.0
    assert 0.5 <= sleeps.waits[1] <= 1.0, "exponential backoff with jitter: 0.5 s * 2, halved"
    assert posts[-1].body["text"] == "<b>Hello</b> team"


async def test_after_the_last_attempt_the_error_surfaces(core: Core,
                                                         connector: FakeConnector) -> None:
    sleeps = Sleeps()
    adapter = adapter_for(core, connector, sleeps)
    await adapter.start()
    try:
        connector.failures = [(502, {})] * 4
        with pytest.raises(Exception, match="Throttled"):
            await adapter.outbound.update(channel_ref(connector), "1234", Reply("edit"))
        assert len(connector.updates) == RetryPolicy().attempts
        assert len(sleeps.waits) == RetryPolicy().attempts - 1
    finally:
        await adapter.stop()


async def test_a_revoked_token_is_dropped_and_fetched_again(core: Core,
                                                           connector: FakeConnector) -> None:
    adapter = adapter_for(core, connector, Sleeps())
    connector.rejected_tokens = {"token-1"}
    await adapter.outbound.post(channel_ref(connector), Reply("hi"))
    assert [c.headers["Authorization"] for c in connector.activities()] == \
        ["Bearer token-1", "Bearer token-2"]


def credentials(connector: FakeConnector, secret: str = PASSWORD) -> ClientCredentials:
    return ClientCredentials(f"{connector.login_url()}/oauth2/v2.0/token", APP_ID, secret,
                             "https://api.botframework.com/.default")


async def test_concurrent_callers_share_one_fetch_and_the_loop_keeps_running(
        connector: FakeConnector) -> None:
    connector.token_delay = 0.2
    token = CachedToken(HttpClient(), credentials(connector))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.create_task(ticker())
    tokens = await asyncio.gather(*(token.token() for _ in range(10)))
    running.cancel()
    assert set(tokens) == {"token-1"} and token.fetches == 1
    assert ticks >= 10, "the event loop kept running while the token was fetched"
    assert PASSWORD not in repr(token.credentials)


async def test_tokens_are_refreshed_before_they_expire(connector: FakeConnector) -> None:
    clock = Clock()
    token = CachedToken(HttpClient(), credentials(connector), clock=clock)
    assert await token.token() == "token-1"
    clock.now += 3400  # a 3600 s token is used for 3570 s: 170 s left, inside the margin
    assert await token.token() == "token-1", "still valid: answered at once"
    await asyncio.sleep(0.2)  # the background refresh
    assert await token.token() == "token-2"
    clock.now += 4000
    assert await token.token() == "token-3", "expired: fetched before answering"


async def test_a_wrong_secret_is_a_clear_error(connector: FakeConnector) -> None:
    token = CachedToken(HttpClient(), credentials(connector, secret="wrong"))
    with pytest.raises(TokenError, match="invalid_client") as caught:
        await token.token()
    assert "wrong" not in str(caught.value)


@pytest.mark.parametrize("value, seconds", [("3", 3.0), ("0", 0.0), (None, None),
                                            ("soon", None)])
def test_retry_after_is_read_as_seconds(value: Any, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds
    assert RetryPolicy(max_delay=5).delay(0, 60.0) == 5.0, "capped"
