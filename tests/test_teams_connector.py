"""Outbound calls to Teams: retried on 429 and 5xx with backoff, a revoked token fetched again,
MSAL's token reused and refreshed before it expires without holding up the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.teams.adapter import TeamsAdapter
from adapters.teams.connector import RetryPolicy, parse_retry_after
from adapters.teams.settings import TeamsSettings
from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import ConversationRef, Reply
from tests.conftest import KNOWLEDGE
from tests.teams_fakes import APP_ID, BOT_ID, CHANNEL, TENANT, FakeConnector, trusted_ca_bundle

PASSWORD = "s3cret-password"


class Sleeps:
    """Records backoff waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture()
async def connector(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeConnector]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", trusted_ca_bundle())  # MSAL trusts the fake
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


def adapter_for(core: Core, connector: FakeConnector, sleeps: Sleeps | None = None,
                secret: str = PASSWORD) -> TeamsAdapter:
    settings = TeamsSettings(app_id=APP_ID, app_password=secret,
                             login_url=connector.login_url(), owner_check=False)
    return TeamsAdapter(core, settings, retry=RetryPolicy(sleep=sleeps or Sleeps()))


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
    assert posts[-1].body["conversation"]["tenantId"] == TENANT, "an old reference's tenantID"


async def test_after_the_last_attempt_the_error_surfaces(core: Core,
                                                         connector: FakeConnector) -> None:
    sleeps = Sleeps()
    adapter = adapter_for(core, connector, sleeps)
    await adapter.start()
    try:
        connector.failures = [(502, {})] * 4
        with pytest.raises(aiohttp.ClientResponseError, match="Throttled"):
            await adapter.outbound.update(channel_ref(connector), "1234", Reply("edit"))
        assert len(connector.updates) == RetryPolicy().attempts
        assert len(sleeps.waits) == RetryPolicy().attempts - 1
    finally:
        await adapter.stop()


async def test_a_revoked_token_is_dropped_and_fetched_again(core: Core,
                                                           connector: FakeConnector) -> None:
    adapter = adapter_for(core, connector)
    connector.rejected_tokens = {"token-1"}
    await adapter.outbound.post(channel_ref(connector), Reply("hi"))
    assert [c.headers["Authorization"] for c in connector.activities()] == \
        ["Bearer token-1", "Bearer token-2"]


async def test_one_token_serves_many_posts_and_the_loop_keeps_running_while_it_is_fetched(
        core: Core, connector: FakeConnector) -> None:
    connector.token_delay = 0.3
    adapter = adapter_for(core, connector)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.create_task(ticker())
    await adapter.outbound.post(channel_ref(connector), Reply("first"))
    running.cancel()
    assert ticks >= 10, "the event loop kept running while MSAL fetched the token"
    await asyncio.gather(*(adapter.outbound.post(channel_ref(connector), Reply(f"post {n}"))
                           for n in range(5)))
    assert len(connector.token_requests) == 1, "MSAL's cached token is reused"
    assert {c.headers["Authorization"] for c in connector.activities()} == {"Bearer token-1"}


async def test_a_token_close_to_expiry_is_replaced_before_it_is_used(
        core: Core, connector: FakeConnector) -> None:
    connector.token_lifetime = 120  # less than the five minutes MSAL keeps in hand
    adapter = adapter_for(core, connector)
    await adapter.outbound.post(channel_ref(connector), Reply("one"))
    await adapter.outbound.post(channel_ref(connector), Reply("two"))
    first, second = (c.headers["Authorization"] for c in connector.activities())
    assert first != second, "the second post did not reuse a token about to expire"


async def test_a_wrong_secret_is_a_clear_error(core: Core, connector: FakeConnector) -> None:
    adapter = adapter_for(core, connector, secret="wrong")
    with pytest.raises(ValueError, match="invalid_client") as caught:
        await adapter.outbound.post(channel_ref(connector), Reply("hi"))
    assert "wrong" not in str(caught.value)
    assert connector.activities() == []


@pytest.mark.parametrize("value, seconds", [("3", 3.0), ("0", 0.0), (None, None),
                                            ("soon", None)])
def test_retry_after_is_read_as_seconds(value: Any, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds
    assert RetryPolicy(max_delay=5).delay(0, 60.0) == 5.0, "capped"
