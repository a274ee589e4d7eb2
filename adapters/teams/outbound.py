"""The Outbound port the daily scheduler posts through: proactive messages into channels.

Each call is a proactive turn (`CloudAdapter.continue_conversation` with our app id), so it gets
the SDK's connector client with MSAL's cached token. A post starts a new thread in the channel
(POST /v3/conversations/{channel}/activities) and returns the new activity's id; a post with
`thread` replies to that activity (POST /v3/conversations/{channel};messageid={thread}/
activities/{thread}); an update replaces the card (PUT .../activities/{id}).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from microsoft_agents.hosting.core import ChannelServiceAdapter, TurnContext

from adapters.teams.connector import AT_MOST_ONCE
from adapters.teams.inbound import CHANNEL, THREAD_MARK, load_reference
from adapters.teams.render import to_activity
from bot.model import ConversationRef, Reply
from bot.ports import NotDelivered


class TeamsOutbound:
    """post/update for the core's scheduled work."""

    platform = "teams"

    def __init__(self, adapter: ChannelServiceAdapter, app_id: str) -> None:
        self.adapter = adapter
        self.app_id = app_id

    async def _proactive(self, ref: ConversationRef, thread: str | None,
                         work: Callable[[TurnContext], Awaitable[Any]]) -> Any:
        """`work` in a proactive turn in the channel, or in `thread` (a reply to its root)."""
        reference = load_reference(ref)
        if thread is not None and reference.conversation.conversation_type == CHANNEL:
            reference.conversation.id = f"{reference.conversation.id}{THREAD_MARK}{thread}"
        result: dict[str, Any] = {}

        async def callback(turn: TurnContext) -> None:
            turn.activity.id = thread  # the SDK's turn would reply to its made-up activity id
            result["value"] = await work(turn)

        await self.adapter.continue_conversation(
            self.app_id, reference.get_continuation_activity(), callback)
        return result.get("value")

    async def post(self, ref: ConversationRef, reply: Reply, thread: str | None = None,
                   key: str | None = None) -> str:
        """Post (a `key`ed post at most once: see `connector.AT_MOST_ONCE`).

        The connector cannot be asked whether a post landed, so a keyed post is never retried
        when its outcome is unknown; a clear refusal (4xx, or no connection at all) raises
        NotDelivered, anything else is left to the caller as an unknown outcome.
        """
        marker = AT_MOST_ONCE.set(key is not None)
        try:
            response = await self._proactive(
                ref, thread, lambda turn: turn.send_activity(to_activity(reply)))
        except aiohttp.ClientResponseError as exc:
            if key is not None and 400 <= exc.status < 500:
                raise NotDelivered(f"Teams answered {exc.status}") from None
            raise
        except aiohttp.ClientConnectorError as exc:
            if key is not None:
                raise NotDelivered(f"no connection to Teams ({type(exc).__name__})") from None
            raise
        finally:
            AT_MOST_ONCE.reset(marker)
        if response is None or not response.id:
            raise RuntimeError("the Teams connector did not return the new message's id")
        return str(response.id)

    async def update(self, ref: ConversationRef, message_id: str, reply: Reply) -> None:
        activity = to_activity(reply, updating=True)
        activity.id = message_id
        await self._proactive(ref, None, lambda turn: turn.update_activity(activity))
