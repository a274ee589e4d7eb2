"""Nothing lost, and past one core: what the probe of issue 12 did, on loopback.

Real `aws-quiz serve` processes on PostgreSQL against the fake Slack Web API (tests/slack_fakes.py,
which keeps the messages it accepted with their metadata and answers conversations.history).
Each scenario prints a table.

  startup     six trials of two replicas starting together on an empty database: how many start
  malformed   200 malformed unsigned requests to /slack/events: statuses, 500s, log lines
  fanout      kill -9 one of two replicas in the middle of a 300-channel daily fan-out; then
              questions and reveals per channel after the survivor's passes
  ambiguous   Slack accepts daily posts and reveals but answers 500 or too late (and some 500s
              for posts that never landed); questions and reveals per channel
  sigterm     SIGTERM one of two replicas at 100 commands/s with 2 s Slack latency: commands
              acknowledged, answered, lost; exit code and time to exit
  kill        kill -9 one of two replicas mid answer at 50 commands/s with 1 s Slack latency
  costs       CPU milliseconds one process spends per command kind, whole HTTP path
  throughput  sustained commands/s with p99 answer latency under 2 s: one process, then
              `serve --workers 2`

Usage: .venv/bin/python bench/resilience.py [scenario ...] [--database-url URL]
The database (default postgresql+asyncpg://postgres@127.0.0.1:5432/aws_quiz_bench) is created
if missing and emptied before each scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.slack_fakes import FakeSlack, sign, slash_body  # noqa: E402

SECRET = "bench-resilience-secret"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/aws_quiz_bench"


# -- the pieces --------------------------------------------------------------------------------

class BenchSlack(FakeSlack):
    """The fake Slack API, remembering when each response_url answer arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.answered_at: dict[int, float] = {}
        self.answer_counts: Counter[int] = Counter()

    async def _response(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        n = int(request.match_info["n"])
        body = await request.json()
        if any(b.get("type") == "actions" for b in body.get("blocks") or []):
            self.responses.append((str(n), body))  # questions with buttons, to press later
        self.answered_at.setdefault(n, time.monotonic())
        self.answer_counts[n] += 1
        return web.Response(text="ok")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Replica:
    """One `aws-quiz serve` process on the benchmark database."""

    def __init__(self, name: str, url: str, fake: FakeSlack, logs: Path, workers: int = 1,
                 **env: str) -> None:
        self.name = name
        self.port = free_port()
        self.log = logs / f"{name}.log"
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("SLACK_", "Microsoft", "TEAMS_", "AWS_QUIZ_ENV"))}
        environment.update({
            "DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url, "AWS_QUIZ_SCHEDULER_SECONDS": "2",
            "AWS_QUIZ_DAILY_LEASE_SECONDS": "20", "AWS_QUIZ_WORK_LEASE_SECONDS": "10",
            "AWS_QUIZ_SHUTDOWN_GRACE_SECONDS": "25", "LOG_LEVEL": "INFO", **env})
        self.started = time.monotonic()
        self.exited_at = 0.0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", str(workers)], cwd=ROOT, env=environment,
            stdout=subprocess.DEVNULL, stderr=self.log.open("w"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self, timeout: float = 120) -> bool:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                try:
                    async with session.get(f"{self.url}/readyz") as response:
                        if response.status == 200:
                            return True
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        return False

    async def wait_exit(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.exited_at = time.monotonic()
                return self.proc.returncode
            await asyncio.sleep(0.05)
        return None

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def reset_database(url: str) -> None:
    """Create the benchmark database if needed and empty it."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    dsn = dict(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
               user=parsed.username or "postgres", password=parsed.password)
    admin = await asyncpg.connect(database="postgres", **dsn)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                      parsed.database)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(database=parsed.database, **dsn)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


async def migrated(url: str) -> Any:
    from bot.store.database import Database

    db = Database(url)
    await db.upgrade()
    return db


class Balancer:
    """Sends signed commands to the replicas in turn, like a load balancer: a replica that
    refuses connections is skipped (that request was never acknowledged) until it is back."""

    def __init__(self, replicas: list[Replica], fake: BenchSlack) -> None:
        self.replicas = replicas
        self.fake = fake
        self.down: set[str] = set()
        self.sent_at: dict[int, float] = {}
        self.acked: set[int] = set()
        self.refused = 0
        self.errors: Counter[str] = Counter()
        self.ack_ms: list[float] = []
        self._turn = 0
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Balancer:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                             timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.session is not None
        await self.session.close()

    def _pick(self) -> Replica | None:
        live = [r for r in self.replicas if r.name not in self.down]
        if not live:
            return None
        self._turn += 1
        return live[self._turn % len(live)]

    async def command(self, n: int, text: str) -> None:
        assert self.session is not None
        body = slash_body(text, user=f"U{n % 200}", channel=f"C{n % 20}",
                          response_url=self.fake.response_url(n))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
        for _ in range(len(self.replicas) + 1):
            replica = self._pick()
            if replica is None:
                self.errors["no replica"] += 1
                return
            self.sent_at.setdefault(n, time.monotonic())
            try:
                async with self.session.post(f"{replica.url}/slack/events", data=body,
                                             headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        self.acked.add(n)
                        self.ack_ms.append((time.monotonic() - self.sent_at[n]) * 1000)
                    elif response.status == 503:  # stopping: not taken on, try the next one
                        self.refused += 1
                        continue
                    else:
                        self.errors[f"HTTP {response.status}"] += 1
                    return
            except aiohttp.ClientConnectorError:
                self.down.add(replica.name)  # not listening any more: try the next one
                self.refused += 1
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                self.refused += 1  # closed before an answer: not acknowledged, try again
            except TimeoutError:
                self.errors["timeout"] += 1
                return

    async def load(self, rate: float, seconds: float, first: int = 0,
                   texts: tuple[str, ...] = ("what is amazon s3",),
                   at: dict[float, Any] | None = None) -> int:
        """Open loop: `rate` commands a second for `seconds`; `at` runs callbacks on time."""
        tasks = []
        start = time.monotonic()
        pending = sorted((at or {}).items())
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            while pending and pending[0][0] <= time.monotonic() - start:
                pending.pop(0)[1]()
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            n = first + i
            tasks.append(asyncio.create_task(self.command(n, texts[n % len(texts)])))
        for _, callback in pending:
            callback()
        await asyncio.gather(*tasks)
        return total


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def table(title: str, rows: list[tuple[str, object]]) -> None:
    print(f"\n{title}")
    width = max(len(r[0]) for r in rows) + 2
    for label, value in rows:
        print(f"  {label:<{width}}{value}")


async def wait_until(predicate: Any, timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


# -- scenarios ---------------------------------------------------------------------------------

async def startup(url: str, logs: Path) -> None:
    fake = BenchSlack()
    await fake.start()
    results = []
    try:
        for trial in range(6):
            await reset_database(url)
            pair = [Replica(f"start{trial}{x}", url, fake, logs) for x in "ab"]
            ok = await asyncio.gather(*(r.ready() for r in pair))
            codes = [r.proc.poll() for r in pair]
            for replica in pair:
                replica.stop()
            results.append((sum(ok), codes))
    finally:
        await fake.close()
    table("Two replicas starting together on an empty PostgreSQL database, six trials", [
        ("trials", len(results)),
        ("replicas started (of 12)", sum(r[0] for r in results)),
        ("replicas that exited during start-up", sum(1 for r in results for c in r[1]
                                                     if c is not None)),
    ])


async def malformed(url: str, logs: Path) -> None:
    from tests.test_refusals import malformed_slack_requests

    await reset_database(url)
    fake = BenchSlack()
    await fake.start()
    replica = Replica("malformed", url, fake, logs, LOG_LEVEL="INFO")
    try:
        await replica.ready()
        before = len(replica.logs().splitlines())
        statuses: Counter[int] = Counter()
        requests = malformed_slack_requests(200)
        async with aiohttp.ClientSession() as session:
            for body, headers in requests:
                async with session.post(f"{replica.url}/slack/events", data=body,
                                        headers=headers) as response:
                    statuses[response.status] += 1
        await asyncio.sleep(0.5)
        lines = replica.logs().splitlines()[before:]
    finally:
        replica.stop()
        await fake.close()
    table("200 malformed unsigned requests to /slack/events", [
        ("statuses", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))),
        ("500 answers", statuses.get(500, 0)),
        ("log lines", len(lines)),
        ("tracebacks", sum("Traceback" in line for line in lines)),
        ("longest log line (chars)", max((len(line) for line in lines), default=0)),
        ("calls reaching the Slack API", len(fake.calls)),
    ])


async def subscribe(url: str, channels: int, reveal_minutes: int = 1) -> list[str]:
    """`channels` Slack channels with a daily question due now (UTC) and their references."""
    from bot.model import ConversationRef
    from bot.store.dailystore import DailyStore
    from bot.store.refstore import RefStore

    db = await migrated(url)
    store, refs = DailyStore(db), RefStore(db)
    due = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%H:%M")
    names = [f"C{i:04d}" for i in range(channels)]
    for name in names:
        await refs.save(ConversationRef("slack", "T1", name, {"team_id": "T1"}))
        await store.subscribe("slack", "T1", name, due, "UTC", "daily", reveal_minutes, "UADMIN")
    await db.dispose()
    return names


def per_channel(fake: FakeSlack, names: list[str]) -> tuple[Counter[int], Counter[int]]:
    """How many channels got 0, 1, 2... daily questions, and 0, 1, 2... reveals."""
    questions: Counter[int] = Counter()
    reveals: Counter[int] = Counter()
    for name in names:
        posted = [m for m in fake.questions(name)
                  if (m.get("metadata") or {}).get("event_type") == "aws_quiz_daily"]
        questions[len(posted)] += 1
        reveals[sum(len([r for r in fake.thread(name, m["ts"]) if "Answer:" in r["text"]])
                    for m in posted)] += 1
    return questions, reveals


async def unfinished_claims(url: str) -> int:
    from sqlalchemy import func, select

    from bot.store.tables import daily_posts

    db = await migrated(url)
    try:
        row = await db.first(select(func.count()).select_from(daily_posts)
                             .where(daily_posts.c.message_id.is_(None),
                                    daily_posts.c.outcome.is_(None)))
        return int(row[0])
    finally:
        await db.dispose()


def show_counts(counts: Counter[int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


async def fanout(url: str, logs: Path, channels: int = 300) -> None:
    await reset_database(url)
    await migrated(url)
    fake = BenchSlack()
    fake.latency = 1.0
    await fake.start()
    pair = [Replica(f"fanout-{x}", url, fake, logs) for x in "ab"]
    try:
        await asyncio.gather(*(r.ready() for r in pair))
        names = await subscribe(url, channels)
        started = time.monotonic()
        await wait_until(lambda: len(fake.of("chat.postMessage")) >= channels // 5, 120, 0.05)
        pair[0].proc.send_signal(signal.SIGKILL)
        killed_after = len(fake.of("chat.postMessage"))
        await wait_until(lambda: per_channel(fake, names)[0].get(1, 0) == channels, 240)
        posted_in = time.monotonic() - started
        await wait_until(lambda: per_channel(fake, names)[1].get(1, 0) == channels, 240)
        revealed_in = time.monotonic() - started
        await asyncio.sleep(6)  # a few more passes: nothing else may happen
        questions, reveals = per_channel(fake, names)
        stuck = await unfinished_claims(url)
        took_over = pair[1].logs().count("took over the unfinished post")
        adopted = pair[1].logs().count("had landed")
    finally:
        for replica in pair:
            replica.stop()
        await fake.close()
    table(f"kill -9 of one of two replicas mid fan-out to {channels} channels "
          "(Slack latency 1 s, daily lease 20 s, passes every 2 s)", [
              ("posts sent when the replica was killed", killed_after),
              ("channels by number of questions", show_counts(questions)),
              ("channels by number of reveals", show_counts(reveals)),
              ("claims left without a message", stuck),
              ("claims the survivor took over", took_over),
              ("... of which had landed (found by metadata)", adopted),
              ("every channel posted after (s)", f"{posted_in:.0f}"),
              ("every channel revealed after (s)", f"{revealed_in:.0f}"),
          ])


async def ambiguous(url: str, logs: Path, channels: int = 40) -> None:
    await reset_database(url)
    await migrated(url)
    fake = BenchSlack()
    fake.slow_seconds = 15.0  # past the daily post's own limit (lease / 2 = 10 s)
    fake.ambiguous = ["500"] * 10 + ["slow"] * 10 + ["lost"] * 5
    await fake.start()
    pair = [Replica(f"ambiguous-{x}", url, fake, logs) for x in "ab"]
    try:
        await asyncio.gather(*(r.ready() for r in pair))
        names = await subscribe(url, channels)
        await wait_until(lambda: per_channel(fake, names)[0].get(1, 0) == channels, 240)
        fake.ambiguous = ["500"] * 10 + ["slow"] * 5  # and the reveals
        await wait_until(lambda: per_channel(fake, names)[1].get(1, 0) == channels, 240)
        await asyncio.sleep(6)
        questions, reveals = per_channel(fake, names)
        lookups = len(fake.of("conversations.history")) + len(fake.of("conversations.replies"))
    finally:
        for replica in pair:
            replica.stop()
        await fake.close()
    table(f"Ambiguous Slack outcomes, two replicas, {channels} channels (posts: 10 accepted "
          "then 500, 10 accepted then answered after 15 s, 5 500s that never posted; "
          "reveals: 10 then 500, 5 slow)", [
              ("channels by number of questions", show_counts(questions)),
              ("channels by number of reveals", show_counts(reveals)),
              ("history/replies look-ups", lookups),
          ])


async def sigterm(url: str, logs: Path, rate: float = 100, seconds: float = 12) -> None:
    await reset_database(url)
    await migrated(url)
    fake = BenchSlack()
    await fake.start()
    pair = [Replica(f"sigterm-{x}", url, fake, logs) for x in "ab"]
    try:
        await asyncio.gather(*(r.ready() for r in pair))
        fake.latency = 2.0
        stopped: dict[str, float] = {}

        def stop_first() -> None:
            stopped["at"] = time.monotonic()
            pair[0].proc.send_signal(signal.SIGTERM)
            exits.append(asyncio.ensure_future(pair[0].wait_exit(60)))

        exits: list[asyncio.Future[int | None]] = []
        async with Balancer(pair, fake) as balancer:
            total = await balancer.load(rate, seconds, at={seconds / 3: stop_first})
            code = await exits[0]
            exit_after = pair[0].exited_at - stopped["at"] if code is not None else None
            await wait_until(lambda: balancer.acked <= set(fake.answered_at), 60)
        lost = balancer.acked - set(fake.answered_at)
        first_logs = pair[0].logs()
        handled = [line for line in first_logs.splitlines() if "shutdown:" in line]
    finally:
        for replica in pair:
            replica.stop()
        await fake.close()
    table(f"SIGTERM to one of two replicas at {rate:.0f} commands/s, Slack latency 2 s "
          "(grace 25 s)", [
              ("commands sent", total),
              ("acknowledged (HTTP 200)", len(balancer.acked)),
              ("refused before acknowledgement (sent to the other)", balancer.refused),
              ("acknowledgement p99 (ms)", f"{percentile(balancer.ack_ms, 0.99):.0f}"),
              ("acknowledged and answered", len(balancer.acked & set(fake.answered_at))),
              ("acknowledged and never answered", len(lost)),
              ("answered twice", sum(1 for n in balancer.acked if fake.answer_counts[n] > 1)),
              ("stopped replica's exit code", code),
              ("its time from SIGTERM to exit (s)", f"{exit_after:.1f}" if exit_after else "-"),
              ("its shutdown line", handled[0].split("adapters.serve: ")[-1][:110]
               if handled else "-"),
          ])


async def kill(url: str, logs: Path, rate: float = 50, seconds: float = 8) -> None:
    await reset_database(url)
    await migrated(url)
    fake = BenchSlack()
    await fake.start()
    pair = [Replica(f"kill-{x}", url, fake, logs) for x in "ab"]
    try:
        await asyncio.gather(*(r.ready() for r in pair))
        fake.latency = 1.0
        async with Balancer(pair, fake) as balancer:
            total = await balancer.load(rate, seconds, at={
                seconds / 2: lambda: pair[0].proc.send_signal(signal.SIGKILL)})
            finished = await wait_until(lambda: balancer.acked <= set(fake.answered_at), 90)
        lost = balancer.acked - set(fake.answered_at)
        recovered = pair[1].logs().count("acknowledged by another replica")
    finally:
        for replica in pair:
            replica.stop()
        await fake.close()
    table(f"kill -9 of one of two replicas mid answer at {rate:.0f} commands/s, Slack latency "
          "1 s (work lease 10 s)", [
              ("commands sent", total),
              ("acknowledged", len(balancer.acked)),
              ("acknowledged and answered", len(balancer.acked & set(fake.answered_at))),
              ("acknowledged and never answered", len(lost)),
              ("finished by the survivor from the work table", recovered),
              ("answered twice", sum(1 for n in balancer.acked if fake.answer_counts[n] > 1)),
              ("all answered", finished),
          ])


def cpu_seconds(pid: int, children: bool = True) -> float:
    """User + system CPU of a process (and its live children) so far (Linux /proc)."""
    total = 0.0
    pids = [pid]
    try:
        if children:
            pids += [int(c) for c in
                     Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy() -> float:
    """CPU seconds all cores spent busy so far (Linux /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL server's processes so far (0 when it runs elsewhere)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def costs(url: str, logs: Path, rate: float = 30, seconds: float = 8) -> None:
    """CPU milliseconds one process spends per command kind, over the whole HTTP path."""
    await reset_database(url)
    await migrated(url)
    fake = BenchSlack()
    await fake.start()
    replica = Replica("costs", url, fake, logs, LOG_LEVEL="WARNING",
                      AWS_QUIZ_SCHEDULER_SECONDS="3600")
    rows = []
    try:
        await replica.ready()
        first = 0
        kinds = [("help", ("help",)), ("lookup", ("what is amazon s3", "what is a nacl")),
                 ("quiz", ("quiz",)), ("quiz answer (button)", ()), ("stats", ("stats",)),
                 ("leaderboard", ("leaderboard",))]
        async with Balancer([replica], fake) as balancer:
            await balancer.load(20, 3, first=90_000_000, texts=("quiz", "stats", "help"))
            for name, texts in kinds:
                before_cpu = cpu_seconds(replica.proc.pid)
                before = set(fake.answered_at)
                if texts:
                    sent = await balancer.load(rate, seconds, first=first, texts=texts)
                else:
                    sent = await press_answers(balancer, fake, rate, seconds, first)
                await wait_until(lambda: balancer.acked <= set(fake.answered_at), 30, 0.2)
                used = cpu_seconds(replica.proc.pid) - before_cpu
                new = [n for n in set(fake.answered_at) - before if n in balancer.sent_at]
                latency = sorted(fake.answered_at[n] - balancer.sent_at[n] for n in new)
                rows.append((name, sent, 1000 * used / max(sent, 1),
                             percentile(latency, 0.5), percentile(latency, 0.99)))
                first += 1_000_000
    finally:
        replica.stop()
        await fake.close()
    print(f"\nWhat one process spends per command, whole HTTP path (signature, Bolt, work "
          f"table, core, response_url), {rate:.0f}/s for {seconds:.0f} s each, PostgreSQL")
    print(f"  {'command':<24}{'sent':>6}{'CPU ms':>9}{'p50 s':>8}{'p99 s':>8}")
    for name, sent, cpu, p50, p99 in rows:
        print(f"  {name:<24}{sent:>6}{cpu:>9.1f}{p50:>8.2f}{p99:>8.2f}")


async def press_answers(balancer: Balancer, fake: BenchSlack, rate: float, seconds: float,
                        first: int) -> int:
    """Press the first option of quiz questions the bot sent earlier (one press each)."""
    import json
    from urllib.parse import urlencode

    questions = []
    for n, body in list(fake.responses):
        for block in body.get("blocks") or []:
            if block.get("type") == "actions":
                button = block["elements"][0]
                if button["action_id"].startswith("quiz.answer"):
                    questions.append((int(n) if str(n).isdigit() else 0, button))
    total = min(int(rate * seconds), len(questions))
    assert balancer.session is not None
    session = balancer.session
    replica = balancer.replicas[0]

    async def press(i: int, owner: int, button: dict[str, Any]) -> None:
        n = first + i
        payload = {"type": "block_actions", "team": {"id": "T1"},
                   "user": {"id": f"U{owner % 200}", "username": "u", "team_id": "T1"},
                   "api_app_id": "A1", "token": "legacy", "trigger_id": "1",
                   "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1",
                                 "is_ephemeral": True},
                   "channel": {"id": f"C{owner % 20}", "name": "general"},
                   "response_url": fake.response_url(n),
                   "actions": [{"type": "button", "action_id": button["action_id"],
                                "block_id": "b", "value": button["value"],
                                "action_ts": str(time.time())}]}
        body = urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
        balancer.sent_at[n] = time.monotonic()
        async with session.post(f"{replica.url}/slack/events", data=body,
                                headers=headers) as response:
            await response.read()
            if response.status == 200:
                balancer.acked.add(n)

    tasks = []
    start = time.monotonic()
    for i, (owner, button) in enumerate(questions[:total]):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(press(i, owner, button)))
    await asyncio.gather(*tasks)
    return total


COMMAND_MIX = ("what is amazon s3", "quiz", "stats", "help", "what is a nacl", "leaderboard",
               "quiz storage", "topics")


async def step(replica: Replica, fake: Any, rate: float, seconds: float,
               first: int) -> dict[str, float]:
    """One open-loop step over lean keep-alive connections; answer latencies at the fake."""
    from bench.lean_http import LeanClient

    client = LeanClient(replica.port)
    sent_at: dict[int, float] = {}
    acked: set[int] = set()

    async def one(n: int) -> None:
        text = COMMAND_MIX[n % len(COMMAND_MIX)]
        body = slash_body(text, user=f"U{n % 200}", channel=f"C{n % 20}",
                          response_url=fake.response_url(n))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
        sent_at[n] = time.monotonic()
        if await client.post("/slack/events", body.encode(), headers) == 200:
            acked.add(n)

    total = int(rate * seconds)
    start = time.monotonic()
    tasks = []
    for i in range(total):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(first + i)))
    await asyncio.gather(*tasks)
    await wait_until(lambda: acked <= set(fake.answered_at), 20, 0.2)
    client.close()
    latencies = sorted(fake.answered_at[n] - sent_at[n] for n in acked if n in fake.answered_at)
    unanswered = len(acked - set(fake.answered_at))
    p99 = percentile(latencies, 0.99) if latencies else 99.0
    return {"rate": rate, "sent": total, "acked": len(acked), "unanswered": unanswered,
            "p50": statistics.median(latencies) if latencies else 99.0,
            "p99": p99 if not unanswered else max(p99, 99.0)}


async def sustained(url: str, logs: Path, workers: int, rates: list[float],
                    seconds: float) -> tuple[float, list[dict[str, float]]]:
    from bench.lean_http import LeanSlack

    await reset_database(url)
    await migrated(url)
    fake = await LeanSlack().start()
    replica = Replica(f"throughput-{workers}", url, fake, logs, workers=workers,  # type: ignore[arg-type]
                      LOG_LEVEL="WARNING", AWS_QUIZ_SCHEDULER_SECONDS="3600")
    results: list[dict[str, float]] = []
    best = 0.0
    try:
        if not await replica.ready():
            raise RuntimeError(f"replica did not start: {replica.logs()[-2000:]}")
        await step(replica, fake, 20, 4, 10_000_000)  # warm-up: lazy loads, caches, pools
        first = 0
        for rate in rates:
            cpu_before, wall = cpu_seconds(replica.proc.pid), time.monotonic()
            harness_before = cpu_seconds(os.getpid(), children=False)
            busy_before, pg_before = machine_busy(), postgres_cpu()
            result = await step(replica, fake, rate, seconds, first)
            elapsed = time.monotonic() - wall
            result["cpu"] = (cpu_seconds(replica.proc.pid) - cpu_before) / elapsed
            result["harness"] = (cpu_seconds(os.getpid(), children=False)
                                 - harness_before) / elapsed
            result["postgres"] = (postgres_cpu() - pg_before) / elapsed
            result["others"] = (machine_busy() - busy_before) / elapsed - result["cpu"] \
                - result["harness"] - result["postgres"]
            first += int(rate * seconds) + 1
            results.append(result)
            if result["p99"] < 2.0 and result["unanswered"] == 0:
                best = rate
            else:
                break
            await asyncio.sleep(2)
    finally:
        replica.stop()
        await fake.close()
    return best, results


async def throughput(url: str, logs: Path, seconds: float = 10) -> None:
    rates = [30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 160, 180, 200, 230, 260]
    one, one_steps = await sustained(url, logs, 1, rates, seconds)
    two, two_steps = await sustained(url, logs, 2, rates, seconds)
    print(f"\nSustained commands/s with p99 answer latency under 2 s (open loop, {seconds:.0f} s "
          f"per step; mix: {', '.join(COMMAND_MIX)}; {os.cpu_count()} CPUs; PostgreSQL)")
    print("  (CPU columns in cores: the server's processes, the load generator and fake, "
          "PostgreSQL, and everything else running on the machine meanwhile)")
    print(f"  {'processes':<10}{'rate':>6}{'acked':>7}{'lost':>6}{'p50 s':>7}{'p99 s':>7}"
          f"{'server':>8}{'harness':>9}{'postgres':>10}{'others':>8}")
    for label, steps in (("1", one_steps), ("2", two_steps)):
        for r in steps:
            print(f"  {label:<10}{r['rate']:>6.0f}{r['acked']:>7.0f}{r['unanswered']:>6.0f}"
                  f"{r['p50']:>7.2f}{r['p99']:>7.2f}{r.get('cpu', 0):>8.2f}"
                  f"{r.get('harness', 0):>9.2f}{r.get('postgres', 0):>10.2f}"
                  f"{r.get('others', 0):>8.2f}")
    ratio = two / one if one else float("nan")
    print(f"  best sustained: one process {one:.0f}/s, two workers {two:.0f}/s, ratio "
          f"{ratio:.2f} (target >= 1.6)")


SCENARIOS = {"startup": startup, "malformed": malformed, "fanout": fanout,
             "ambiguous": ambiguous, "sigterm": sigterm, "kill": kill,
             "costs": costs, "throughput": throughput}


async def main_async(names: list[str], url: str, keep: str = "") -> None:
    with tempfile.TemporaryDirectory(prefix="aws-quiz-bench-") as tmp:
        logs = Path(keep or tmp)
        logs.mkdir(parents=True, exist_ok=True)
        for name in names:
            started = time.monotonic()
            await SCENARIOS[name](url, logs)
            print(f"  ({name}: {time.monotonic() - started:.0f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=[],
                        help=f"any of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 DEFAULT_URL))
    parser.add_argument("--keep-logs", default="", metavar="DIR",
                        help="keep each replica's log in DIR")
    args = parser.parse_args()
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}")
    random.seed(1)
    asyncio.run(main_async(args.scenarios or list(SCENARIOS), args.database_url,
                           args.keep_logs))


if __name__ == "__main__":
    main()
