"""The aiohttp server `aws-quiz serve` runs: platform routes, /healthz, /readyz, the scheduler.

Besides the routes, the app runs three background loops in every replica: the daily scheduler
pass, the recovery of acknowledged work whose replica went away (`WorkStore.claim_expired`) and
the hourly pruning of old ids. All work the process has taken on (requests being answered,
acknowledged commands, a scheduler pass) is registered in one `InFlight`, which a graceful
shutdown (see `serve`) drains before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta

from aiohttp import web

from adapters.lifecycle import InFlight
from adapters.platform import PlatformAdapter
from bot.app import Core
from bot.daily.scheduler import run_scheduler
from bot.store.eventstore import EventStore
from bot.store.workstore import WorkItem, WorkStore

log = logging.getLogger(__name__)

CORE_KEY = web.AppKey("core", Core)
ADAPTERS_KEY = web.AppKey("adapters", list)
INFLIGHT_KEY = web.AppKey("inflight", InFlight)
WORK_KEY = web.AppKey("work", WorkStore)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers (and says which one: `serve --workers` runs several)."""
    return web.json_response({"status": "ok", "pid": os.getpid()})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: knowledge loaded, database reachable, platforms ready; 503 while stopping."""
    core = request.app[CORE_KEY]
    checks = {
        "knowledge": bool(core.kb.entries) and not core.kb.errors,
        "database": core.db is not None and await core.db.ping(),
    }
    for adapter in request.app[ADAPTERS_KEY]:
        checks[adapter.name] = await adapter.ready()
    if request.app[INFLIGHT_KEY].closing:
        checks["accepting"] = False
    ok = all(checks.values())
    return web.json_response({"status": "ready" if ok else "not ready", "checks": checks},
                             status=200 if ok else 503)


@web.middleware
async def in_flight(request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:
    """A request being answered is in-flight work: shutdown lets it finish. Once the work is
    drained, a request that still slips in on an open connection is not taken on (503): it is
    never acknowledged, so nothing is lost with it."""
    inflight = request.app[INFLIGHT_KEY]
    if inflight.sealed:
        return web.json_response({"error": "shutting down"}, status=503,
                                 headers={"Connection": "close"})
    with inflight.track():
        return await handler(request)


async def prune_forever(events: EventStore, work: WorkStore | None,
                        interval: float = 3600.0) -> None:
    """Forget handled delivery ids and finished work once they are too old (hourly)."""
    while True:
        try:
            await events.prune()
            if work is not None:
                await work.prune()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - housekeeping must not take the server down
            log.warning("could not prune processed event ids", exc_info=True)
        await asyncio.sleep(interval)


async def recover_forever(work: WorkStore, adapters: Sequence[PlatformAdapter],
                          inflight: InFlight, interval: float) -> None:
    """Renew the leases of the work this replica is doing (its heartbeat), and finish
    acknowledged work whose replica went away (its lease ran out)."""
    owners: dict[str, PlatformAdapter] = {}
    for adapter in adapters:
        if callable(getattr(adapter, "replay", None)):
            owners[adapter.name] = adapter
    while True:
        try:
            await work.renew(inflight.item_ids())  # also while draining, until the end
            if not inflight.closing:
                for item in await work.claim_expired():
                    owner = owners.get(item.kind.split(".", 1)[0])
                    if owner is None:
                        continue
                    inflight.spawn(_replay(owner, item), item.id, name=f"replay {item.id}")
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive through a database blip
            log.warning("could not look for unfinished work", exc_info=True)
        await asyncio.sleep(interval)


async def _replay(adapter: PlatformAdapter, item: WorkItem) -> None:
    try:
        await adapter.replay(item)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the item stays pending and is tried again later
        log.exception("could not finish work item %s", item.id)


def create_app(core: Core, adapters: Sequence[PlatformAdapter],
               scheduler_interval: float | None = 30.0,
               recovery_interval: float | None = None) -> web.Application:
    """The web application; the daily scheduler runs inside it unless the interval is None.

    Recovery of other replicas' unfinished work runs every `recovery_interval` seconds (by
    default a quarter of the work lease) when the scheduler runs, i.e. in a real server.
    """
    app = web.Application(client_max_size=1024 * 1024, middlewares=[in_flight])
    inflight = InFlight()
    app[CORE_KEY] = core
    app[ADAPTERS_KEY] = list(adapters)
    app[INFLIGHT_KEY] = inflight
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    work = next((w for a in adapters if isinstance(w := getattr(a, "work", None), WorkStore)),
                None)
    if work is not None:
        app[WORK_KEY] = work
    for adapter in adapters:
        core.outbounds.add(adapter.outbound)
        if hasattr(adapter, "inflight"):
            adapter.inflight = inflight  # type: ignore[attr-defined]
        adapter.mount(app)
    if recovery_interval is None and scheduler_interval is not None and work is not None:
        recovery_interval = max(1.0, work.lease / timedelta(seconds=4))

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        for adapter in adapters:
            await adapter.start()
        tasks = []
        if scheduler_interval is not None and core.daily is not None:
            tasks.append(asyncio.create_task(run_scheduler(core.daily, scheduler_interval,
                                                           inflight)))
        if recovery_interval is not None and work is not None:
            tasks.append(asyncio.create_task(recover_forever(work, adapters, inflight,
                                                             recovery_interval)))
        if core.db is not None:
            tasks.append(asyncio.create_task(prune_forever(EventStore(core.db), work)))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for adapter in adapters:
            await adapter.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
