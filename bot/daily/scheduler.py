"""The background loop every replica runs: one daily-quiz pass every interval."""

from __future__ import annotations

import asyncio
import logging

from bot.daily.feature import DailyFeature

log = logging.getLogger(__name__)


async def run_scheduler(daily: DailyFeature, interval: float = 30.0) -> None:
    """Run `daily.run_due()` forever; claims in the database keep replicas from doubling up."""
    while True:
        try:
            counts = await daily.run_due()
            if any(counts.values()):
                log.info("daily pass: %s", counts)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive through a database blip
            log.exception("daily scheduler pass failed")
        await asyncio.sleep(interval)
