"""The aiohttp server `aws-quiz serve` runs: platform routes, /healthz, /readyz, the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from adapters.platform import PlatformAdapter
from bot.app import Core
from bot.daily.scheduler import run_scheduler
from bot.store.eventstore import EventStore

log = logging.getLogger(__name__)

CORE_KEY = web.AppKey("core", Core)
ADAPTERS_KEY = web.AppKey("adapters", list)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: knowledge loaded, database reachable, platforms ready."""
    core = request.app[CORE_KEY]
    checks = {
        "knowledge": bool(core.kb.entries) and not core.kb.errors,
        "database": core.db is not None and await core.db.ping(),
    }
    for adapter in request.app[ADAPTERS_KEY]:
        checks[adapter.name] = await adapter.ready()
    ok = all(checks.values())
    return web.json_response({"status": "ready" if ok else "not ready", "checks": checks},
                             status=200 if ok else 503)


async def prune_forever(events: EventStore, interval: float = 3600.0) -> None:
    """Forget handled delivery ids once they are too old to be retried (hourly)."""
    while True:
        try:
            await events.prune()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - housekeeping must not take the server down
            log.warning("could not prune processed event ids", exc_info=True)
        await asyncio.sleep(interval)


def create_app(core: Core, adapters: Sequence[PlatformAdapter],
               scheduler_interval: float | None = 30.0) -> web.Application:
    """The web application; the daily scheduler runs inside it unless the interval is None."""
    app = web.Application(client_max_size=1024 * 1024)
    app[CORE_KEY] = core
    app[ADAPTERS_KEY] = list(adapters)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    for adapter in adapters:
        core.outbounds.add(adapter.outbound)
        adapter.mount(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        for adapter in adapters:
            await adapter.start()
        tasks = []
        if scheduler_interval is not None and core.daily is not None:
            tasks.append(asyncio.create_task(run_scheduler(core.daily, scheduler_interval)))
        if core.db is not None:
            tasks.append(asyncio.create_task(prune_forever(EventStore(core.db))))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for adapter in adapters:
            await adapter.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
