"""The lifecycle every test fake of a remote service shares: an aiohttp app on 127.0.0.1."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer


class LoopbackServer:
    """Mixin for fakes: `server` holds the running TestServer, `url` where it answers."""

    server: TestServer | None

    async def serve(self, app: web.Application, port: int = 0) -> None:
        self.server = TestServer(app, host="127.0.0.1", port=port)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"
