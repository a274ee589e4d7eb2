"""Time answering a quiz question end to end through the router on the SQLite store.

Each iteration presses an answer button (claim the showing, record the answer, update the FSRS
card, render feedback); serving the next question is timed separately. 1,000 answers.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.app import build_core, load_checked, open_database
from bot.config import Settings
from bot.model import Action, Context, Message
from bot.quiz.render import ANSWER_ACTION


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env()
        settings = Settings(knowledge_dir=settings.knowledge_dir, data_dir=Path(tmp))
        db = await open_database(settings)
        core = build_core(settings, load_checked(settings), db=db, rng=random.Random(1))
        users = [f"U{i}" for i in range(20)]
        answer_ms: list[float] = []
        serve_ms: list[float] = []
        for i in range(n):
            ctx = Context(platform="console", tenant="T", user=users[i % len(users)],
                          user_name="bench", channel="C", direct=True)
            t0 = time.perf_counter()
            [question] = await core.router.handle(Message(ctx, "quiz"))
            serve_ms.append((time.perf_counter() - t0) * 1000)
            choice = random.choice([c for c in question.choices  # not the Report button
                                    if c.action_id == ANSWER_ACTION])
            t0 = time.perf_counter()
            await core.router.handle_action(Action(ctx, choice.action_id, choice.value))
            answer_ms.append((time.perf_counter() - t0) * 1000)
        await db.dispose()
    print(f"{'step (SQLite, ' + str(n) + ' answers)':<34}{'p50':>10}{'p99':>10}{'target p99':>12}")
    print(f"{'answer a question':<34}{statistics.median(answer_ms):>8.2f}ms"
          f"{percentile(answer_ms, 0.99):>8.2f}ms{'< 20 ms':>12}")
    print(f"{'serve the next question':<34}{statistics.median(serve_ms):>8.2f}ms"
          f"{percentile(serve_ms, 0.99):>8.2f}ms{'':>12}")


if __name__ == "__main__":
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
