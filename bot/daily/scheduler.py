"""The background loop every replica runs: one daily-quiz pass every interval."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractContextManager
from typing import Protocol

from bot.daily.feature import DailyFeature

log = logging.getLogger(__name__)


class Tracker(Protocol):
    """Where a pass registers as in-flight work (the server's `InFlight`)."""

    closing: bool

    def track(self, item_id: str | None = None) -> AbstractContextManager[None]: ...


async def run_scheduler(daily: DailyFeature, interval: float = 30.0,
                        inflight: Tracker | None = None) -> None:
    """Run `daily.run_due()` forever; claims in the database keep replicas from doubling up.

    With `inflight`, each pass is in-flight work (a shutdown lets it finish within the grace
    period), and no new pass starts once the process is closing.
    """
    while inflight is None or not inflight.closing:
        try:
            if inflight is None:
                counts = await daily.run_due()
            else:
                with inflight.track():
                    counts = await daily.run_due()
            if any(counts.values()):
                log.info("daily pass: %s", counts)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive through a database blip
            log.exception("daily scheduler pass failed")
        await asyncio.sleep(interval)
