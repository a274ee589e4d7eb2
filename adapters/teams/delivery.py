"""Where each reply of a turn goes.

- In a personal chat every reply is sent there; a reply with `replace` that answers a card submit
  updates that card (update_activity on the submit's replyToId) instead.
- In a channel or group chat a public reply goes to the same place (the thread when there is
  one); `replace` updates the card the button was on.
- `private` and `dm` replies from a channel or group chat go to the user's personal chat with
  the bot, which we open through the connector (POST /v3/conversations: Teams answers with the
  same 1:1 chat every time, and we remember its id). Teams has no ephemeral messages, so this
  is how "only you see it" works there. A card in a channel is never replaced by a private
  reply.
- If Teams will not open the personal chat (the app is not installed for that user and the
  tenant blocks it), the channel gets a short note for that person that says where to find the
  app, and never the private content itself (a daily answer's verdict stays secret).
- When a typed command in a channel was answered only privately, the channel gets a one-line
  pointer to the personal chat, so the person who asked sees that something happened.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext

from adapters.teams.inbound import PERSONAL, tenant_of
from adapters.teams.render import to_activity
from bot.model import Context, ConversationRef, Reply
from bot.text import escape_md

log = logging.getLogger(__name__)

MAX_REMEMBERED_CHATS = 10_000


class Delivery:
    """Sends one turn's replies where they belong."""

    def __init__(self,
                 remember: Callable[[ConversationRef], Awaitable[None]] | None = None) -> None:
        self._remember = remember  # keeps the personal chats reachable for later
        self._chats: dict[tuple[str, str, str], ConversationReference] = {}

    async def deliver(self, turn: TurnContext, ctx: Context, replies: Sequence[Reply],
                      from_card: bool) -> None:
        card_id = turn.activity.reply_to_id if from_card else None
        privately = 0
        public = 0
        for reply in replies:
            if (reply.private or reply.dm) and not ctx.direct:
                if await self.send_personal(turn, to_activity(reply)):
                    privately += 1
                else:
                    await self._no_personal_chat(turn, ctx)
                    return
                continue
            public += 1
            if reply.replace and card_id:
                activity = to_activity(reply, updating=True)
                activity.id = card_id
                await turn.update_activity(activity)
            else:
                await turn.send_activity(to_activity(reply))
        if privately and not public and not from_card:
            name = escape_md(ctx.user_name) if ctx.user_name else "You"
            note = Reply(f"{name}: I've answered in our personal chat.")
            await turn.send_activity(to_activity(note))

    async def _personal_chat(self, turn: TurnContext, client: Any) -> ConversationReference:
        """The sender's 1:1 chat with the bot (created once, then remembered)."""
        inbound = turn.activity
        sender, bot = inbound.from_property, inbound.recipient
        assert sender is not None and bot is not None  # send_personal checked
        tenant = tenant_of(inbound)
        key = (inbound.service_url or "", tenant, sender.id or "")
        known = self._chats.get(key)
        if known is not None:
            return known
        wanted: dict[str, Any] = {"isGroup": False, "bot": bot,
                                  "members": [ChannelAccount(id=sender.id)]}
        if tenant:
            wanted |= {"tenantId": tenant, "channelData": {"tenant": {"id": tenant}}}
        created = await client.conversations.create_conversation(
            ConversationParameters.model_validate(wanted))
        chat = ConversationReference(
            conversation=ConversationAccount(id=created.id, conversation_type=PERSONAL,
                                             tenant_id=tenant or None),
            agent=bot, user=ChannelAccount(id=sender.id, name=sender.name),
            channel_id=inbound.channel_id, service_url=inbound.service_url)
        if len(self._chats) >= MAX_REMEMBERED_CHATS:
            self._chats.clear()
        self._chats[key] = chat
        if self._remember is not None:
            reference = chat.model_dump(by_alias=True, exclude_none=True, mode="json")
            try:
                await self._remember(ConversationRef("teams", tenant, created.id, reference))
            except Exception:  # noqa: BLE001
                log.warning("could not save the personal chat's reference", exc_info=True)
        return chat

    async def send_personal(self, turn: TurnContext, activity: Activity) -> bool:
        """Post in the sender's 1:1 chat with the bot; False when Teams will not allow it."""
        client = turn.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
        if client is None or turn.activity.from_property is None or turn.activity.recipient is None:
            return False
        try:
            chat = await self._personal_chat(turn, client)
            await client.conversations.send_to_conversation(
                chat.conversation.id, activity.apply_conversation_reference(chat))
        except Exception:  # noqa: BLE001 - the caller falls back to a note in the channel
            log.warning("could not message a user in their personal chat", exc_info=True)
            return False
        return True

    async def _no_personal_chat(self, turn: TurnContext, ctx: Context) -> None:
        who = ctx.user_name or "there"
        await turn.send_activity(to_activity(Reply(
            f"Hi {escape_md(who)}, I have a private answer for you but Teams would not let me "
            "open a chat with you. Add **AWS Quiz** for yourself (Apps, search AWS Quiz, Add), "
            "then try again.")))
