"""Teams activities read as the core's neutral events: who, where, what they said or pressed.

- `Context`: platform "teams", tenant = conversation.tenantId (or channelData.tenant.id),
  user = from.aadObjectId (or from.id), user_name = from.name, direct = a personal chat.
  A channel's conversation id arrives as `19:...@thread.tacv2;messageid=<root>` when the message
  is in a reply chain: `channel` is the part before `;messageid=`, `thread` the root's id.
- Text: in a personal chat the whole text is the command; in channels and group chats only a
  message that @mentions the bot counts, with the mention removed before parsing.
- A card submit (Action.Submit) arrives as a message whose `value` is the button's data:
  `{"action_id": ..., "value": ...}`.
- `conversation_ref`: our ConversationRef, with the SDK's ConversationReference as JSON, pointing
  at the channel itself (no thread, no user) so that the daily post starts a new thread.
"""

from __future__ import annotations

import html
import re
from typing import Any

from microsoft_agents.activity import Activity, ConversationReference

from bot.model import Context, ConversationRef

PERSONAL = "personal"
CHANNEL = "channel"
GROUP_CHAT = "groupChat"
THREAD_MARK = ";messageid="
TEAM_KEY = "awsQuizTeamId"
_SPACES = re.compile(r"\s+")


def split_conversation_id(conversation_id: str) -> tuple[str, str | None]:
    """`19:abc@thread.tacv2;messageid=17` -> ("19:abc@thread.tacv2", "17")."""
    base, mark, thread = conversation_id.partition(THREAD_MARK)
    return base, (thread or None) if mark else None


def channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def conversation_type(activity: Activity) -> str:
    conversation = activity.conversation
    if conversation is not None and conversation.conversation_type:
        return str(conversation.conversation_type)
    if channel_data(activity).get("channel"):
        return CHANNEL
    return GROUP_CHAT if conversation is not None and conversation.is_group else PERSONAL


def tenant_of(activity: Activity) -> str:
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return str(conversation.tenant_id)
    data_tenant = channel_data(activity).get("tenant")
    if isinstance(data_tenant, dict) and data_tenant.get("id"):
        return str(data_tenant["id"])
    return ""


def team_of(activity: Activity) -> dict[str, Any]:
    team = channel_data(activity).get("team")
    return team if isinstance(team, dict) else {}


def context_of(activity: Activity, is_admin: bool = False) -> Context:
    """The neutral Context of an inbound activity."""
    base, thread = split_conversation_id(activity.conversation.id if activity.conversation else "")
    sender = activity.from_property  # the user is the Entra object id when Teams sends one
    user = str(sender.aad_object_id or sender.id or "") if sender else ""
    name = str(sender.name or "") if sender else ""
    return Context(platform="teams", tenant=tenant_of(activity), user=user, user_name=name,
                   channel=base, thread=thread, direct=conversation_type(activity) == PERSONAL,
                   is_admin=is_admin)


def command_text(activity: Activity) -> str | None:
    """The command a message carries, or None when it is not addressed to the bot.

    In a personal chat all of the text; elsewhere only a message that @mentions the bot (the
    SDK's mention entities), with the mention removed. Hand-made activities without mention
    entities address the bot by `<at>its name</at>` (test_only_the_bots_own_mention_addresses_it
    _in_a_channel).
    """
    mentioned = activity.is_recipient_mentioned()
    text = activity.model_copy().remove_recipient_mention() if mentioned else activity.text or ""
    name = activity.recipient.name if activity.recipient else None
    if not activity.get_mentions() and name:
        text, found = re.subn(f"<at>{re.escape(name)}</at>", " ", text, flags=re.IGNORECASE)
        mentioned = found > 0
    if not mentioned and conversation_type(activity) != PERSONAL:
        return None
    return _SPACES.sub(" ", html.unescape(text).replace("\u00a0", " ")).strip()


def submit_of(activity: Activity) -> tuple[str, str] | None:
    """(action_id, value) of an Action.Submit, or None when the message is not a submit."""
    value = activity.value
    if not isinstance(value, dict):
        return None
    action_id = value.get("action_id")
    if not isinstance(action_id, str) or not action_id:
        return None
    raw = value.get("value", "")
    return action_id, raw if isinstance(raw, str) else str(raw)


def team_id_of(activity: Activity) -> str:
    """The id of the team a channel activity belongs to ('' outside teams)."""
    return str(team_of(activity).get("id") or "")


def conversation_ref(activity: Activity) -> ConversationRef:
    """Our ConversationRef of the conversation an activity came from, with the SDK's
    ConversationReference of the conversation itself (not of one message or user)."""
    reference = activity.get_conversation_reference()
    reference.activity_id = reference.user = reference.locale = None
    channel = split_conversation_id(reference.conversation.id or "")[0]
    reference.conversation.id = channel
    reference.conversation.conversation_type = conversation_type(activity)
    reference.conversation.tenant_id = tenant_of(activity) or None
    saved: dict[str, Any] = reference.model_dump(by_alias=True, exclude_none=True, mode="json")
    if team := team_id_of(activity):
        saved[TEAM_KEY] = team  # ours, beside the SDK's fields: forget a team's channels at once
    return ConversationRef("teams", tenant_of(activity), channel, saved)


def load_reference(ref: ConversationRef) -> ConversationReference:
    """The SDK's ConversationReference back from our ConversationRef.

    References saved by the Bot Framework SDK spell the conversation's tenant `tenantID`.
    """
    data = {k: v for k, v in ref.reference.items() if k != TEAM_KEY}
    conversation = dict(data.get("conversation") or {})
    if "tenantID" in conversation:
        conversation.setdefault("tenantId", conversation.pop("tenantID"))
    return ConversationReference.model_validate({**data, "conversation": conversation})
