"""The aiohttp server `aws-quiz serve` runs: platform routes, health, metrics, reload, scheduler.

Routes besides the platforms': `/healthz`, `/readyz`, `/metrics` (Prometheus) and `POST
/-/reload` (load the knowledge folder again; from this machine, or with AWS_QUIZ_ADMIN_TOKEN).
Every request gets a request id (the caller's `X-Request-Id`, `X-Amzn-Trace-Id` or `MS-CV` when
it sends a sane one, else a new one), which every log line it causes carries and which is
returned as `X-Request-Id`; it is counted and timed by platform and kind.

The app runs three background loops in every replica: the daily scheduler pass, the recovery
of acknowledged work whose replica went away (`WorkStore.claim_expired`) and the hourly pruning
of old ids. All work the process has taken on (requests being answered, acknowledged commands,
a scheduler pass) is registered in one `InFlight`, which a graceful shutdown (see `serve`)
drains before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta

from aiohttp import web

from adapters import logs, metrics
from adapters.lifecycle import InFlight
from adapters.platform import PlatformAdapter
from bot.app import Core
from bot.reload import ReloadResult, counts, reload_knowledge, state_of
from bot.store.eventstore import EventStore
from bot.store.workstore import WorkItem, WorkStore

log = logging.getLogger(__name__)

CORE_KEY = web.AppKey("core", Core)
ADAPTERS_KEY = web.AppKey("adapters", list)
INFLIGHT_KEY = web.AppKey("inflight", InFlight)
WORK_KEY = web.AppKey("work", WorkStore)
METRICS_KEY = web.AppKey("metrics", metrics.MetricsEndpoint)

REQUEST_ID_HEADERS = ("X-Request-Id", "X-Amzn-Trace-Id", "MS-CV", "X-Correlation-Id")
SANE_ID = re.compile(r"[A-Za-z0-9._:;=/+-]{1,128}")
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


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


def request_id_of(request: web.Request) -> str:
    """The caller's request id when it sends a sane one, else a new one."""
    for header in REQUEST_ID_HEADERS:
        value = request.headers.get(header, "")
        if SANE_ID.fullmatch(value):
            return value
    return uuid.uuid4().hex


@web.middleware
async def observed(request: web.Request,
                   handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                   ) -> web.StreamResponse:
    """Request id and platform for every log line of the request; its count and latency."""
    started = time.perf_counter()
    rid = request_id_of(request)
    platform, _ = metrics.classify(request.path, b"")
    rid_token = logs.request_id.set(rid)
    platform_token = logs.platform.set(platform if platform != "server" else None)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        if not response.prepared:
            response.headers["X-Request-Id"] = rid
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers["X-Request-Id"] = rid
        raise
    finally:
        try:
            body = await request.read() if request.body_exists else b""
        except Exception:  # noqa: BLE001 - too large or cut off: counted without a kind
            body = b""
        platform, kind = metrics.classify(request.path, body)
        seconds = time.perf_counter() - started
        metrics.record_request(platform, kind, status, seconds)
        # One line per platform request it answers, and per 5xx; refusals (4xx) have their own
        # line where they are refused, and probes and scrapes are not worth one.
        if (platform != "server" and status < 400) or status >= 500:
            log.info("%s %s %s -> %d in %.0f ms", request.method, request.path, kind, status,
                     seconds * 1000)
        logs.request_id.reset(rid_token)
        logs.platform.reset(platform_token)


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


async def metrics_view(request: web.Request) -> web.Response:
    """Prometheus text format: this process (or all workers) plus the database gauges."""
    body, content_type = await request.app[METRICS_KEY].render()
    return web.Response(body=body, headers={"Content-Type": content_type})


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def reload_allowed(request: web.Request) -> bool:
    """From this machine (and not through a proxy), or with the admin token."""
    token = os.environ.get("AWS_QUIZ_ADMIN_TOKEN", "")
    given = request.headers.get("Authorization", "")
    if given:
        return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if any(header in request.headers for header in PROXY_HEADERS):
        return False
    return _is_loopback(request.remote)


async def reload_and_record(core: Core) -> ReloadResult:
    """Reload the knowledge folder and show the outcome in the metrics."""
    result = await reload_knowledge(core, core.settings)
    metrics.record_reload(result.status)
    if result.status == "reloaded":
        metrics.record_knowledge(result.version, counts(core.kb), result.previous)
    return result


async def reload_view(request: web.Request) -> web.Response:
    """`POST /-/reload`: 200 with the new (or unchanged) version, 422 with the errors."""
    if not reload_allowed(request):
        return web.json_response({"error": "reload is allowed from this machine, or with "
                                           "Authorization: Bearer $AWS_QUIZ_ADMIN_TOKEN"},
                                 status=403)
    result = await reload_and_record(request.app[CORE_KEY])
    data = result.to_json()
    data["pid"] = os.getpid()
    if os.environ.get("AWS_QUIZ_WORKER") is not None and result.ok:
        os.kill(os.getppid(), signal.SIGHUP)  # the parent tells every worker (see workers)
        data["workers"] = "every worker was told to reload"
    status = 200 if result.ok else 422 if result.status == "refused" else 500
    return web.json_response(data, status=status)


async def schedule_forever(core: Core, interval: float, inflight: InFlight) -> None:
    """One daily pass every interval, with whatever daily feature is in service (a reload swaps
    it); claims in the database keep replicas from doubling up. No new pass once closing."""
    while not inflight.closing:
        daily = core.daily
        if daily is not None:
            try:
                with inflight.track():
                    done = await daily.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep the loop alive through a database blip
                log.exception("daily scheduler pass failed")
                metrics.record_daily_pass(None)
            else:
                if any(done.values()):
                    log.info("daily pass: %s", done)
                metrics.record_daily_pass(done)
        await asyncio.sleep(interval)


async def prune_forever(events: EventStore, work: WorkStore | None,
                        interval: float = 3600.0, core: Core | None = None) -> None:
    """Forget handled delivery ids and finished work once they are too old, and apply the
    retention setting (answer history, removed workspaces): hourly."""
    while True:
        try:
            await events.prune()
            if work is not None:
                await work.prune()
            if core is not None and core.db is not None:
                from bot.store.database import utcnow
                from bot.store.retention import prune as prune_retention

                pruned = await prune_retention(core.db, core.settings, utcnow())
                if any(pruned.values()):
                    log.info("retention: pruned %s", pruned)
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
    app = web.Application(client_max_size=1024 * 1024, middlewares=[observed, in_flight])
    inflight = InFlight()
    app[CORE_KEY] = core
    app[ADAPTERS_KEY] = list(adapters)
    app[INFLIGHT_KEY] = inflight
    app[METRICS_KEY] = metrics.MetricsEndpoint(core.db)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    app.router.add_post("/-/reload", reload_view)
    metrics.record_knowledge(state_of(core).version.digest, counts(core.kb))
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
            tasks.append(asyncio.create_task(schedule_forever(core, scheduler_interval,
                                                              inflight)))
        if recovery_interval is not None and work is not None:
            tasks.append(asyncio.create_task(recover_forever(work, adapters, inflight,
                                                             recovery_interval)))
        if core.db is not None:
            tasks.append(asyncio.create_task(prune_forever(EventStore(core.db), work,
                                                           core=core)))
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for adapter in adapters:
            await adapter.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
