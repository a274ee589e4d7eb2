"""What one command costs the core, per kind: wall and CPU milliseconds, sequential, no network.

A learner with a history (`--answers` past answers and their review cards) sends each kind of
command `--repeat` times through the router, on SQLite or on PostgreSQL (`--database-url`).
This is the cost one process pays per command before any platform overhead (Slack's signature
check, Bolt, the work table, the response_url call); `bench/resilience.py throughput` measures
the whole path.

Usage: .venv/bin/python bench/command_costs.py [--answers 2000] [--repeat 40]
       [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--profile stats]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import Core, build_core, load_checked  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.model import Action, Context, Message, Reply  # noqa: E402
from bot.store.database import Database  # noqa: E402


async def seed(core: Core, user: str, answers: int) -> None:
    """A learner with `answers` past answers spread over 60 days, and their cards."""
    from bot.quiz import memory
    from bot.store.quizstore import QuizStore

    assert core.db is not None
    store = QuizStore(core.db)
    await store.touch_user("T1", user, user)
    ids = sorted(core.kb.questions)
    rng = random.Random(1)
    start = datetime.now(UTC) - timedelta(days=60)
    for i in range(answers):
        qid = ids[i % len(ids)]
        when = start + timedelta(minutes=i * 60 * 24 * 60 / max(answers, 1))
        question = core.kb.questions[qid]
        showing = await store.show("T1", user, qid, "quiz", list(range(len(question.options))))
        correct = rng.random() < 0.7
        card, due = memory.review(None, memory.rating_for(correct), when)
        await store.record_answer(showing, (question.answer[0],), correct,
                                  core.kb.module_of(question.section), card, due, when)


async def measure(name: str, work: Callable[[], Awaitable[object]],
                  repeat: int) -> tuple[str, list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        await work()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return name, walls, cpus


async def run(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    kb = load_checked(settings)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/costs.db"
        if url.startswith("postgresql"):
            await reset_postgres(url)
        db = Database(url)
        await db.upgrade()
        core = build_core(settings, kb, db=db, rng=random.Random(3))
        await seed(core, "UHEAVY", args.answers)
        ctx = Context(platform="console", tenant="T1", user="UHEAVY", user_name="Heavy",
                      channel="D1", direct=True)

        async def say(text: str) -> list[Reply]:
            return await core.router.handle(Message(ctx, text))

        async def quiz_and_answer() -> None:
            [question] = await say("quiz")
            choice = question.choices[0]
            await core.router.handle_action(Action(ctx, choice.action_id, choice.value))

        async def answer_only() -> None:
            await core.router.handle_action(Action(ctx, pending.pop().action_id,
                                                   pending_values.pop()))

        pending, pending_values = [], []
        for _ in range(args.repeat):
            [question] = await say("quiz")
            pending.append(question.choices[0])
            pending_values.append(question.choices[0].value)

        kinds: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("help", lambda: say("help")),
            ("lookup: what is amazon s3", lambda: say("what is amazon s3")),
            ("topics", lambda: say("topics")),
            ("quiz (show a question)", lambda: say("quiz")),
            ("quiz answer (button)", answer_only),
            ("stats", lambda: say("stats")),
            ("leaderboard", lambda: say("leaderboard")),
            ("review", lambda: say("review")),
        ]
        for _, work in kinds:  # warm caches and lazy loads once
            if work is not answer_only:
                await work()
        results = [await measure(name, work, args.repeat) for name, work in kinds]
        if args.profile:
            work = dict(kinds)[next(n for n, _ in kinds if n.startswith(args.profile))]
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(10):
                await work()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        await db.dispose()
    backend = "PostgreSQL" if (args.database_url or "").startswith("postgresql") else "SQLite"
    print(f"\nCost of one command in the core ({backend}; a learner with {args.answers} answers; "
          f"{args.repeat} runs each, sequential)")
    print(f"{'command':<30}{'wall p50':>10}{'wall p99':>10}{'cpu mean':>10}")
    for name, walls, cpus in results:
        walls.sort()
        p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))]
        print(f"{name:<30}{statistics.median(walls):>8.1f}ms{p99:>8.1f}ms"
              f"{statistics.mean(cpus):>8.1f}ms")


async def reset_postgres(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", default="", help="profile the command kind starting so")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
