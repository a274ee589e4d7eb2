"""Outbound ports: what the core needs from a platform to post on its own (scheduled work)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.model import ConversationRef, Reply


class PermanentDeliveryError(Exception):
    """The platform will never accept posts to this conversation as things stand (the bot is
    not in the channel, the channel was archived, the app was removed). Retrying is pointless."""


class NotDelivered(Exception):
    """The platform clearly refused this post (nothing was delivered); a retry may succeed.

    Any other exception from `post` means the outcome is unknown: the message may or may not
    have been delivered (a timeout, a dropped connection, a 5xx after the request was sent).
    """


class Outbound(Protocol):
    """Implemented by each adapter; the daily quiz speaks only through this."""

    platform: str

    async def post(self, ref: ConversationRef, reply: Reply, thread: str | None = None,
                   key: str | None = None) -> str:
        """Post in a channel (or a thread of it); return the new message's id.

        `key` identifies the post (e.g. `daily:<post id>`); a platform that can attach it to the
        message (Slack message metadata) does, so that `find` can look for it later.
        """
        ...

    async def update(self, ref: ConversationRef, message_id: str, reply: Reply) -> None:
        """Replace a message the bot posted earlier."""
        ...


@runtime_checkable
class Findable(Protocol):
    """An outbound port that can tell whether a keyed post landed (Slack: message metadata)."""

    async def find(self, ref: ConversationRef, key: str, thread: str | None = None,
                   since: datetime | None = None) -> str | None:
        """The id of the bot's message carrying `key` (in `thread`, or in the channel since
        `since`), or None when there is none. Raises when the platform cannot be asked now."""
        ...


class Outbounds:
    """The outbound port of each platform that is configured in this process."""

    def __init__(self) -> None:
        self._ports: dict[str, Outbound] = {}

    def add(self, port: Outbound) -> None:
        self._ports[port.platform] = port

    def get(self, platform: str) -> Outbound | None:
        return self._ports.get(platform)
