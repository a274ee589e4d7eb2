"""Posting to Slack on our own initiative: paced per channel, 429s retried by slack-sdk.

A keyed post (the daily question and its reveal) carries the key in Slack message metadata
(`event_type` aws_quiz_daily). When the outcome of a post is unknown (a timeout, a dropped
connection, a 5xx after the request was sent), `find` reads the channel's history (or the
thread's replies) with `include_all_metadata` to tell whether it landed, so it is never posted
twice. A clear refusal (`ok: false`, 429 after the retries) raises NotDelivered.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import blocks, plain
from bot.model import ConversationRef, Reply
from bot.ports import NotDelivered, PermanentDeliveryError

TokenLookup = Callable[[str], Awaitable[str | None]]
# chat.postMessage errors that no retry will fix (the bot must be invited, the channel is gone).
PERMANENT_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived",
                              "restricted_action", "account_inactive", "token_revoked",
                              "invalid_auth"})
METADATA_EVENT = "aws_quiz_daily"
HISTORY_PAGE = 200
HISTORY_PAGES = 10  # at most 2,000 messages are read back to find one post
FIND_SLACK_SECONDS = 120.0  # history is read from this long before the first attempt


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

    async def post(self, ref: ConversationRef, reply: Reply, thread: str | None = None,
                   key: str | None = None) -> str:
        try:
            token = await self._token(ref.tenant)
        except LookupError as exc:
            raise NotDelivered(str(exc)) from None
        await self.pacer.wait(ref.channel)
        extra: dict[str, Any] = {}
        if key is not None:
            extra["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
        try:
            response = await self.client.chat_postMessage(
                token=token, channel=ref.channel, text=plain(reply.text), blocks=blocks(reply),
                thread_ts=thread, unfurl_links=False, **extra)
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in PERMANENT_ERRORS:
                raise PermanentDeliveryError(error) from None
            status = getattr(exc.response, "status_code", 200)
            if status < 500 and exc.response.get("ok") is False:
                raise NotDelivered(error or f"HTTP {status}") from None
            raise  # a 5xx: Slack may have posted it
        return str(response["ts"])

    async def find(self, ref: ConversationRef, key: str, thread: str | None = None,
                   since: datetime | None = None) -> str | None:
        """The ts of our message carrying `key`, read back from Slack; None if it never landed."""
        token = await self._token(ref.tenant)
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            if thread is not None:
                response = await self.client.conversations_replies(
                    token=token, channel=ref.channel, ts=thread, include_all_metadata=True,
                    limit=HISTORY_PAGE, cursor=cursor)
            else:
                oldest = f"{since.timestamp() - FIND_SLACK_SECONDS:.6f}" if since else None
                response = await self.client.conversations_history(
                    token=token, channel=ref.channel, oldest=oldest, include_all_metadata=True,
                    limit=HISTORY_PAGE, cursor=cursor)
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                return None
        raise RuntimeError(f"could not find {key} within {HISTORY_PAGES} pages of history")

    async def update(self, ref: ConversationRef, message_id: str, reply: Reply) -> None:
        token = await self._token(ref.tenant)
        await self.pacer.wait(ref.channel)
        await self.client.chat_update(token=token, channel=ref.channel, ts=message_id,
                                      text=plain(reply.text), blocks=blocks(reply))
