"""Outbound ports: what the core needs from a platform to post on its own (scheduled work)."""

from __future__ import annotations

from typing import Protocol

from bot.model import ConversationRef, Reply


class PermanentDeliveryError(Exception):
    """The platform will never accept posts to this conversation as things stand (the bot is
    not in the channel, the channel was archived, the app was removed). Retrying is pointless."""


class Outbound(Protocol):
    """Implemented by each adapter; the daily quiz speaks only through this."""

    platform: str

    async def post(self, ref: ConversationRef, reply: Reply, thread: str | None = None) -> str:
        """Post in a channel (or a thread of it); return the new message's id."""
        ...

    async def update(self, ref: ConversationRef, message_id: str, reply: Reply) -> None:
        """Replace a message the bot posted earlier."""
        ...


class Outbounds:
    """The outbound port of each platform that is configured in this process."""

    def __init__(self) -> None:
        self._ports: dict[str, Outbound] = {}

    def add(self, port: Outbound) -> None:
        self._ports[port.platform] = port

    def get(self, platform: str) -> Outbound | None:
        return self._ports.get(platform)
