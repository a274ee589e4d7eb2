"""What the server needs from a platform adapter (Slack, Teams): routes, lifecycle, outbound."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from bot.ports import Outbound


class PlatformAdapter(Protocol):
    """A chat platform hosted by the aiohttp server."""

    name: str
    outbound: Outbound

    def mount(self, app: web.Application) -> None:
        """Add this platform's HTTP routes."""
        ...

    async def start(self) -> None:
        """Start background work (e.g. a Socket Mode connection); called once at start-up."""
        ...

    async def stop(self) -> None:
        """Release connections; called once at shutdown."""
        ...

    async def ready(self) -> bool:
        """True when the platform side is ready to take traffic."""
        ...
