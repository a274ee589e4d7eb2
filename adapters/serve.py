"""`aws-quiz serve` and `aws-quiz daily run-due`: the process around the core and adapters."""

from __future__ import annotations

import logging
import os

from aiohttp import web

from adapters.configure import build_adapters
from adapters.logs import setup_logging
from adapters.server import create_app
from bot.app import build_core, load_checked, open_database
from bot.config import Settings

log = logging.getLogger(__name__)


async def _make_app(settings: Settings) -> web.Application:
    kb = load_checked(settings)
    db = await open_database(settings)
    core = build_core(settings, kb, db=db)
    try:
        adapters = build_adapters(core, os.environ)
    except Exception:
        await db.dispose()
        raise
    app = create_app(core, adapters)

    async def close_db(_: web.Application) -> None:
        await db.dispose()

    app.on_cleanup.append(close_db)
    log.info("aws-quiz ready: %d entries, %d questions, database %s, platforms: %s",
             len(kb.entries), len(kb.questions), db.safe_url,
             ", ".join(a.name for a in adapters) or "none")
    return app


def serve(settings: Settings, host: str, port: int | None) -> int:
    """Run the server until SIGINT/SIGTERM."""
    setup_logging(settings)
    port = port or int(os.environ.get("PORT", "3978"))
    web.run_app(_make_app(settings), host=host, port=port, print=None,
                access_log=None)
    return 0


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
