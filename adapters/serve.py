"""`aws-quiz serve` and `aws-quiz daily run-due`: the process around the core and adapters.

`serve` runs until SIGTERM or SIGINT, then shuts down gracefully: it stops accepting
connections, answers 503 on /readyz, lets the work it acknowledged finish (requests, commands,
a daily pass) for up to AWS_QUIZ_SHUTDOWN_GRACE_SECONDS (25: inside Kubernetes' default 30 s),
logs what it had to leave and exits 0. What it left is recorded in the database with a lease,
released at once, and finished by another replica (or by this one when it comes back).

SIGHUP reloads the knowledge folder (see `bot.reload`); `aws-quiz knowledge reload` asks for
the same over HTTP. `serve --workers N` runs N such processes on one port (see `workers`).

Start-up says where it listens and, for each platform, whether it is on and why (not).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from adapters.configure import build_adapters
from adapters.logs import DropMessages, is_teams_local_banner, setup_logging
from adapters.platform import PlatformAdapter
from bot.app import build_core, load_checked, open_database
from bot.config import Settings
from bot.reload import knowledge_version, mark_loaded

# The server and its metrics are imported by the process that serves, not by the parent of
# `serve --workers`: prometheus-client reads PROMETHEUS_MULTIPROC_DIR when it is imported.

log = logging.getLogger(__name__)


def platform_lines(adapters: Sequence[PlatformAdapter], env: Mapping[str, str]) -> list[str]:
    """For each platform: on (how) or off (why), in the words of its settings."""
    by_name = {adapter.name: adapter for adapter in adapters}
    lines = []
    slack: Any = by_name.get("slack")
    if slack is not None:
        mode = "OAuth install" if slack.installation_store is not None else "one workspace"
        transport = "Socket Mode" if slack.app_token else "HTTP at /slack/events"
        lines.append(f"Slack: on ({mode}, {transport})")
    else:
        lines.append("Slack: off (no SLACK_BOT_TOKEN or SLACK_CLIENT_ID; with it, "
                     "SLACK_SIGNING_SECRET for HTTP or SLACK_APP_TOKEN for Socket Mode)")
    teams: Any = by_name.get("teams")
    if teams is not None and teams.settings.local_mode:
        lines.append("Teams: on, LOCAL MODE at /api/messages (no token checks, loopback only)")
    elif teams is not None:
        lines.append(f"Teams: on at /api/messages for app id {teams.settings.app_id}")
    elif env.get("MicrosoftAppId"):
        lines.append("Teams: off")
    else:
        lines.append("Teams: off (no MicrosoftAppId and MicrosoftAppPassword; TEAMS_LOCAL=true "
                     "or --teams-local for local mode)")
    return lines


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _first_worker() -> bool:
    """Start-up details are said once: by a single process, or by worker 0 of several."""
    return os.environ.get("AWS_QUIZ_WORKER", "0") == "0"


async def _make_app(settings: Settings, host: str) -> web.Application:
    from adapters import metrics
    from adapters.server import create_app

    version = knowledge_version(settings.knowledge_dir)
    kb = load_checked(settings)
    db = await open_database(settings)
    core = build_core(settings, kb, db=db)
    state = mark_loaded(core, version)  # the version in service
    try:
        adapters = build_adapters(core, os.environ, bind_host=host)
    except Exception:
        await db.dispose()
        raise
    app = create_app(core, adapters, scheduler_interval=float(settings.scheduler_seconds))

    async def close_db(_: web.Application) -> None:
        await db.dispose()

    app.on_cleanup.append(close_db)
    metrics.install()
    if _first_worker():
        for line in platform_lines(adapters, os.environ):
            log.info("%s", line)
    log.info("aws-quiz ready: %d entries, %d questions, %d scenarios (knowledge version %s), "
             "database %s, platforms: %s", len(kb.entries), len(kb.questions),
             len(kb.scenarios), state.version.digest, db.safe_url,
             ", ".join(a.name for a in adapters) or "none")
    return app


def serve(settings: Settings, host: str, port: int | None, workers: int = 1,
          listen_fd: int | None = None) -> int:
    """Run the server until SIGINT/SIGTERM; 0 after a graceful shutdown."""
    setup_logging(settings)
    # A reload asked before the server can do one must not kill it (SIGHUP's default): the
    # folder is read at start anyway. The server installs its own handler once it runs.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
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
    from adapters.server import CORE_KEY, reload_and_record

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
    reloads: set[asyncio.Task[Any]] = set()

    def on_hangup() -> None:
        log.info("SIGHUP: reloading the knowledge folder")
        task = asyncio.create_task(reload_and_record(app[CORE_KEY]))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hangup)
    if listen_fd is None:
        log.info("listening on %s (pid %d)", url_of(host, port), os.getpid())
    else:
        log.info("worker %s listening on %s (pid %d)", os.environ.get("AWS_QUIZ_WORKER", "?"),
                 url_of(host, port), os.getpid())
    await stop.wait()
    await shutdown(app, runner, site, float(settings.shutdown_grace_seconds),
                   received[0] if received else "stop")
    return 0


async def shutdown(app: web.Application, runner: web.AppRunner, site: web.BaseSite,
                   grace: float, why: str) -> None:
    """Stop accepting, finish acknowledged work within `grace` seconds, release the rest."""
    from adapters.server import ADAPTERS_KEY, INFLIGHT_KEY, WORK_KEY

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
        # Nothing listens here, so the Teams local-mode warning (about a listener) is not said.
        logging.getLogger("adapters.teams.adapter").addFilter(DropMessages(is_teams_local_banner))
        for adapter in build_adapters(core, os.environ):
            core.outbounds.add(adapter.outbound)
        assert core.daily is not None
        counts = await core.daily.run_due()
        print(f"daily pass: {counts['posted']} posted, {counts['revealed']} revealed, "
              f"{counts['failed']} failed")
        return 1 if counts["failed"] else 0
    finally:
        await db.dispose()
