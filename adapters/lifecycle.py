"""Work in flight in this process, so that shutting down finishes it instead of dropping it.

Everything the process has acknowledged and is still working on (a Slack command after its
ack, a Teams turn, a request being answered, a daily pass) runs in a task registered here. On
SIGTERM the server stops taking new requests and `drain` waits for these tasks up to the grace
period; what is still running then is cancelled and reported, and its work items are released
in the database so that another replica finishes them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine, Iterator
from typing import Any

log = logging.getLogger(__name__)

RESERVATION_SECONDS = 120.0


class InFlight:
    """The tasks doing acknowledged work, each with the work item it is doing (if any)."""

    def __init__(self) -> None:
        self._tasks: dict[asyncio.Task[Any], str | None] = {}
        self._reserved: dict[str, float] = {}  # acknowledged, its task not started yet
        self.closing = False  # shutting down: no new passes; /readyz says not ready
        self.sealed = False  # drained: nothing new is taken on at all

    def __len__(self) -> int:
        return len(self._tasks)

    def item_ids(self) -> list[str]:
        """The work items this process has taken on (their leases are renewed meanwhile)."""
        now = time.monotonic()
        for item, since in list(self._reserved.items()):
            if now - since > RESERVATION_SECONDS:
                del self._reserved[item]  # its task never started: let its lease run out
        return [item for item in self._tasks.values() if item is not None] + \
            list(self._reserved)

    def reserve(self, item_id: str) -> None:
        """An item is acknowledged and its task will start soon: it is ours meanwhile."""
        self._reserved[item_id] = time.monotonic()

    @contextlib.contextmanager
    def track(self, item_id: str | None = None) -> Iterator[None]:
        """Count the current task as in flight until the block ends."""
        task = asyncio.current_task()
        if item_id is not None:
            self._reserved.pop(item_id, None)
        if task is None:  # pragma: no cover - always inside a task under asyncio
            yield
            return
        self._tasks[task] = item_id
        try:
            yield
        finally:
            self._tasks.pop(task, None)

    def spawn(self, work: Coroutine[Any, Any, Any], item_id: str | None = None,
              name: str | None = None) -> asyncio.Task[Any]:
        """Run `work` as a task that counts as in flight until it ends."""
        task = asyncio.create_task(work, name=name)
        self._tasks[task] = item_id
        task.add_done_callback(lambda done: self._tasks.pop(done, None))
        return task

    async def drain(self, timeout: float) -> list[str | None]:
        """Wait up to `timeout` seconds for in-flight work; cancel what is left and return the
        work item ids it was doing (None for work without an item)."""
        deadline = time.monotonic() + timeout
        while self._tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=min(remaining, 1.0))
        self.sealed = True
        left = dict(self._tasks)
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(set(left), timeout=2.0)
        return list(left.values()) + list(self._reserved)
