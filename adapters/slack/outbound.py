"""Posting to Slack on our own initiative: paced per channel, 429s retried by slack-sdk."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import blocks, plain
from bot.model import ConversationRef, Reply
from bot.ports import PermanentDeliveryError

TokenLookup = Callable[[str], Awaitable[str | None]]
# chat.postMessage errors that no retry will fix (the bot must be invited, the channel is gone).
PERMANENT_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived",
                              "restricted_action", "account_inactive", "token_revoked",
                              "invalid_auth"})


class ChannelPacer:
    """At most one message per second per channel (Slack's posting guideline)."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def wait(self, channel: str) -> None:
        async with self._locks[channel]:
            delay = self._last.get(channel, 0.0) + self.interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._last[channel] = time.monotonic()


class SlackOutbound:
    """The Outbound port for the daily question (chat.postMessage / chat.update)."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, token_for: TokenLookup,
                 pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self.token_for = token_for
        self.pacer = pacer or ChannelPacer()

    async def _token(self, team: str) -> str:
        token = await self.token_for(team)
        if not token:
            raise LookupError(f"no Slack installation for team {team}")
        return token

    async def post(self, ref: ConversationRef, reply: Reply, thread: str | None = None) -> str:
        token = await self._token(ref.tenant)
        await self.pacer.wait(ref.channel)
        try:
            response = await self.client.chat_postMessage(
                token=token, channel=ref.channel, text=plain(reply.text), blocks=blocks(reply),
                thread_ts=thread, unfurl_links=False)
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in PERMANENT_ERRORS:
                raise PermanentDeliveryError(error) from None
            raise
        return str(response["ts"])

    async def update(self, ref: ConversationRef, message_id: str, reply: Reply) -> None:
        token = await self._token(ref.tenant)
        await self.pacer.wait(ref.channel)
        await self.client.chat_update(token=token, channel=ref.channel, ts=message_id,
                                      text=plain(reply.text), blocks=blocks(reply))
