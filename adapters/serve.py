"""`aws-quiz serve` and `aws-quiz daily run-due`: the process around the core and adapters.

`serve` runs until SIGTERM or SIGINT, then shuts down gracefully: it stops accepting
connections, answers 503 on /readyz, lets the work it acknowledged finish (requests, commands,
a daily pass) for up to AWS_QUIZ_SHUTDOWN_GRACE_SECONDS (25: inside Kubernetes' default 30 s),
logs what it had to leave and exits 0. What it left is recorded in the database with a lease,
released at once, and finished by another replica (or by this one when it comes back).

`serve --workers N` runs N such processes on one port (see `workers`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time

from aiohttp import web

from adapters.configure import build_adapters
from adapters.logs import setup_logging
from adapters.server import ADAPTERS_KEY, INFLIGHT_KEY, WORK_KEY, create_app
from bot.app import build_core, load_checked, open_database
from bot.config import Settings

log = logging.getLogger(__name__)


async def _make_app(settings: Settings, host: str) -> web.Application:
    kb = load_checked(settings)
    db = await open_database(settings)
    core = build_core(settings, kb, db=db)
    try:
        adapters = build_adapters(core, os.environ, bind_host=host)
    except Exception:
        await db.dispose()
        raise
    app = create_app(core, adapters, scheduler_interval=float(settings.scheduler_seconds))

    async def close_db(_: web.Application) -> None:
        await db.dispose()

    app.on_cleanup.append(close_db)
    log.info("aws-quiz ready: %d entries, %d questions, database %s, platforms: %s",
             len(kb.entries), len(kb.questions), db.safe_url,
             ", ".join(a.name for a in adapters) or "none")
    return app


def serve(settings: Settings, host: str, port: int | None, workers: int = 1,
          listen_fd: int | None = None) -> int:
    """Run the server until SIGINT/SIGTERM; 0 after a graceful shutdown."""
    setup_logging(settings)
    port = port or int(os.environ.get("PORT", "3978"))
    if workers > 1:
        from adapters.workers import run_workers

        return _exit_now(run_workers(settings, host, port, workers))
    return _exit_now(asyncio.run(_serve(settings, host, port, listen_fd)))


def _exit_now(code: int) -> int:
    """Exit as soon as the work is done. Everything that matters is in the database by now;
    tearing down the interpreter's modules (the language models among them) takes seconds
    that an orchestrator counts against the grace period."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def _serve(settings: Settings, host: str, port: int, listen_fd: int | None) -> int:
    app = await _make_app(settings, host)
    runner = web.AppRunner(app, handle_signals=False, access_log=None,
                           shutdown_timeout=2.0)
    await runner.setup()
    if listen_fd is not None:  # a worker: the parent owns the listening socket
        site: web.BaseSite = web.SockSite(runner, socket.socket(fileno=listen_fd))
    else:
        site = web.TCPSite(runner, host, port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    log.info("listening on %s:%d (pid %d)", host, port, os.getpid())
    await stop.wait()
    await shutdown(app, runner, site, float(settings.shutdown_grace_seconds),
                   received[0] if received else "stop")
    return 0


async def shutdown(app: web.Application, runner: web.AppRunner, site: web.BaseSite,
                   grace: float, why: str) -> None:
    """Stop accepting, finish acknowledged work within `grace` seconds, release the rest."""
    started = time.monotonic()
    inflight = app[INFLIGHT_KEY]
    inflight.closing = True  # /readyz answers 503; no new scheduler pass or recovery
    log.info("%s: stopping; %d tasks of acknowledged work in flight (grace %.0f s)", why,
             len(inflight), grace)
    await site.stop()  # no new connections
    if runner.server is not None:
        runner.server.pre_shutdown()  # and no new requests on open ones, once theirs is done
    for adapter in app[ADAPTERS_KEY]:
        stop_receiving = getattr(adapter, "stop_receiving", None)
        if stop_receiving is not None:
            await stop_receiving()  # e.g. close the Socket Mode connection
    left = await inflight.drain(max(grace - 2.0, 0.0))
    items = [item for item in left if item is not None]
    if items and WORK_KEY in app:
        try:
            await app[WORK_KEY].release(items)
        except Exception:  # noqa: BLE001 - their leases run out anyway
            log.warning("could not release unfinished work; it is taken over when its lease "
                        "runs out")
    if left:
        shown = ", ".join(items[:5]) + (", …" if len(items) > 5 else "")
        log.warning("shutdown: %d unfinished after %.1f s (%d acknowledged work items, "
                    "released for another replica: %s)", len(left),
                    time.monotonic() - started, len(items), shown or "none")
    else:
        log.info("shutdown: all work finished in %.1f s", time.monotonic() - started)
    await runner.cleanup()
    log.info("stopped after %.1f s", time.monotonic() - started)


async def daily_run_due(settings: Settings) -> int:
    """One daily-quiz pass with the platforms the environment configures (for cron)."""
    setup_logging(settings)
    kb = load_checked(settings)
    db = await open_database(settings)
    try:
        core = build_core(settings, kb, db=db)
        for adapter in build_adapters(core, os.environ):
            core.outbounds.add(adapter.outbound)
        assert core.daily is not None
        counts = await core.daily.run_due()
        print(f"daily pass: {counts['posted']} posted, {counts['revealed']} revealed, "
              f"{counts['failed']} failed")
        return 1 if counts["failed"] else 0
    finally:
        await db.dispose()
