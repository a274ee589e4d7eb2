"""The turn handler: one Teams activity in, the core's replies out. No quiz logic here.

- message with a card submit -> `router.handle_action(Action(ctx, action_id, value))`
- message with text -> `router.handle(Message(ctx, text))` (personal chat: any text; channels
  and group chats: only when the bot is @mentioned, mention removed)
- conversationUpdate / installationUpdate -> the conversation's reference is saved on install
  and on every message, and forgotten when the app is removed from it (or the channel deleted)
- a retried delivery of the same activity (same conversation and activity id) is handled once
  when the database is there to remember it.

`is_admin` is true only for a team owner, as Microsoft Graph reports (see `owners`); people
listed in AWS_QUIZ_ADMINS are admins everywhere (the core checks that list itself).
"""

from __future__ import annotations

import logging

from microsoft_agents.activity import ActivityTypes, ChannelAccount
from microsoft_agents.hosting.core import TurnContext

from adapters.teams.delivery import Delivery
from adapters.teams.inbound import (
    PERSONAL,
    TEAM_KEY,
    channel_data,
    command_text,
    context_of,
    conversation_ref,
    conversation_type,
    split_conversation_id,
    submit_of,
    team_id_of,
    tenant_of,
)
from adapters.teams.owners import OwnerDirectory
from bot.app import Core
from bot.model import Action, Message
from bot.store.eventstore import EventStore

log = logging.getLogger(__name__)


class TeamsBot:
    """Routes each turn to the core and hands the replies to Delivery."""

    def __init__(self, core: Core, owners: OwnerDirectory | None = None,
                 events: EventStore | None = None) -> None:
        self.core = core
        self.owners = owners
        self.events = events
        self.delivery = Delivery(core.remember)

    async def on_turn(self, turn: TurnContext) -> None:
        kind = turn.activity.type
        if kind == ActivityTypes.message:
            await self.on_message(turn)
        elif kind == ActivityTypes.conversation_update:
            await self.on_conversation_update(turn)
        elif kind == ActivityTypes.installation_update:
            await self.on_installation_update(turn)

    async def _first_delivery(self, turn: TurnContext) -> bool:
        activity = turn.activity
        if self.events is None or not activity.id or activity.conversation is None:
            return True
        return await self.events.claim(f"teams:{activity.conversation.id}:{activity.id}")

    async def _remember(self, turn: TurnContext) -> None:
        if turn.activity.conversation is None or not turn.activity.conversation.id:
            return
        try:
            await self.core.remember(conversation_ref(turn.activity))
        except Exception:  # noqa: BLE001 - a reply matters more than a refreshed reference
            log.warning("could not save a Teams conversation reference", exc_info=True)

    async def on_message(self, turn: TurnContext) -> None:
        activity = turn.activity
        if not await self._first_delivery(turn):
            log.info("ignoring a repeated delivery of Teams activity %s", activity.id)
            return
        await self._remember(turn)
        submit = submit_of(activity)
        if submit is not None:
            ctx = context_of(activity)
            replies = await self.core.router.handle_action(Action(ctx, submit[0], submit[1]))
            await self.delivery.deliver(turn, ctx, replies, from_card=True)
            return
        text = command_text(activity)
        if text is None:
            return  # channel chatter that does not @mention the bot
        is_owner = False
        if self.owners is not None and conversation_type(activity) != PERSONAL:
            is_owner = await self.owners.is_owner(turn)
        ctx = context_of(activity, is_admin=is_owner)
        replies = await self.core.router.handle(Message(ctx, text))
        await self.delivery.deliver(turn, ctx, replies, from_card=False)

    def _bot_in(self, turn: TurnContext, members: list[ChannelAccount] | None) -> bool:
        bot_id = turn.activity.recipient.id if turn.activity.recipient else None
        return any(member.id == bot_id for member in members or [])

    async def on_conversation_update(self, turn: TurnContext) -> None:
        activity = turn.activity
        event = str(channel_data(activity).get("eventType") or "")
        if event == "channelDeleted":
            channel = channel_data(activity).get("channel") or {}
            if isinstance(channel, dict) and channel.get("id"):
                await self._forget(turn, str(channel["id"]))
            return
        if event == "teamDeleted" or self._bot_in(turn, activity.members_removed):
            await self._forget(turn)
            return
        await self._remember(turn)
        if self._bot_in(turn, activity.members_added) and conversation_type(activity) == PERSONAL:
            await self._welcome(turn)

    async def on_installation_update(self, turn: TurnContext) -> None:
        action = str(turn.activity.action or "").lower()
        if action.startswith("remove"):
            await self._forget(turn)
        else:
            await self._remember(turn)

    async def _forget(self, turn: TurnContext, channel: str | None = None) -> None:
        """Forget a removed channel, or every channel of a team the app was removed from, and
        switch their daily questions off."""
        if self.core.refs is None or turn.activity.conversation is None:
            return
        tenant = tenant_of(turn.activity)
        channels = {channel or split_conversation_id(turn.activity.conversation.id or "")[0]}
        team = team_id_of(turn.activity)
        if channel is None and team:
            channels |= {ref.channel for ref in await self.core.refs.all("teams", tenant)
                         if ref.reference.get(TEAM_KEY) == team}
        for name in channels:
            await self.core.refs.forget("teams", tenant, name)
            if self.core.daily is not None:
                await self.core.daily.store.unsubscribe("teams", tenant, name)
        log.info("Teams app removed: %d conversation reference(s) forgotten", len(channels))
        if channel is None and self.core.db is not None \
                and not await self.core.refs.all("teams", tenant):
            # the app is gone from every conversation of this tenant we knew: its learners'
            # data is deleted after the retention period unless the app is used again there
            from bot.store.database import utcnow
            from bot.store.retention import record_removal

            await record_removal(self.core.db, "teams", tenant, utcnow())

    async def _welcome(self, turn: TurnContext) -> None:
        ctx = context_of(turn.activity)
        replies = await self.core.router.handle(Message(ctx, "help"))
        await self.delivery.deliver(turn, ctx, replies, from_card=False)
