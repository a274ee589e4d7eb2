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
from microsoft_agents.activity import Activity, ChannelAccount, ChannelId, ConversationReference
from microsoft_agents.hosting.core import ChannelServiceAdapter, ConnectorClientBase, TurnContext

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

    async def _proactive(self, reference: ConversationReference,
                         work: Callable[[ConnectorClientBase], Awaitable[Any]]) -> Any:
        result: dict[str, Any] = {}

        async def callback(turn: TurnContext) -> None:
            client = turn.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
            if client is None:
                raise RuntimeError("the SDK gave the proactive turn no connector client")
            result["value"] = await work(client)

        await self.adapter.continue_conversation(
            self.app_id, reference.get_continuation_activity(), callback)
        return result.get("value")

    @staticmethod
    def _address(activity: Activity, reference: ConversationReference) -> Activity:
        activity.channel_id = reference.channel_id or ChannelId(channel="msteams")
        activity.service_url = reference.service_url
        activity.conversation = reference.conversation
        activity.from_property = reference.agent or ChannelAccount(id="")
        return activity

    async def post(self, ref: ConversationRef, reply: Reply, thread: str | None = None,
                   key: str | None = None) -> str:
        """Post (a `key`ed post at most once: see `connector.AT_MOST_ONCE`).

        The connector cannot be asked whether a post landed, so a keyed post is never retried
        when its outcome is unknown; a clear refusal (4xx, or no connection at all) raises
        NotDelivered, anything else is left to the caller as an unknown outcome.
        """
        if key is None:
            return await self._post(ref, reply, thread)
        marker = AT_MOST_ONCE.set(True)
        try:
            return await self._post(ref, reply, thread)
        except aiohttp.ClientResponseError as exc:
            if 400 <= exc.status < 500:
                raise NotDelivered(f"Teams answered {exc.status}") from None
            raise
        except aiohttp.ClientConnectorError as exc:
            raise NotDelivered(f"no connection to Teams ({type(exc).__name__})") from None
        finally:
            AT_MOST_ONCE.reset(marker)

    async def _post(self, ref: ConversationRef, reply: Reply, thread: str | None) -> str:
        reference = load_reference(ref)
        conversation_id = reference.conversation.id
        activity = self._address(to_activity(reply), reference)

        async def send(client: ConnectorClientBase) -> str:
            if thread is None:
                response = await client.conversations.send_to_conversation(conversation_id,
                                                                           activity)
            else:
                target = conversation_id
                if reference.conversation.conversation_type == CHANNEL:
                    target = f"{conversation_id}{THREAD_MARK}{thread}"
                activity.reply_to_id = thread
                response = await client.conversations.reply_to_activity(target, thread, activity)
            return str(response.id) if response is not None and response.id else ""

        message_id: str = await self._proactive(reference, send)
        if not message_id:
            raise RuntimeError("the Teams connector did not return the new message's id")
        return message_id

    async def update(self, ref: ConversationRef, message_id: str, reply: Reply) -> None:
        reference = load_reference(ref)
        activity = self._address(to_activity(reply, updating=True), reference)
        activity.id = message_id

        async def put(client: ConnectorClientBase) -> None:
            await client.conversations.update_activity(reference.conversation.id, message_id,
                                                       activity)

        await self._proactive(reference, put)
