"""Slack benchmarks: slash-command acknowledgements, and the daily fan-out to 1,000 channels.

1. Acknowledgements: the same open-loop generator sends signed `/aws-quiz` commands at a fixed
   rate over real HTTP, first to `aws-quiz serve` (signature check, then the full command runs
   after the ack and answers at the fake's response URL), then to a bare Bolt app that only
   acknowledges with a fixed text. Prints throughput, p50 and p99 of each and their ratio.
2. Daily fan-out: 1,000 subscribed channels, one scheduler pass, against a fake Web API that
   allows 1 message per second per channel and answers 429 (Retry-After: 1) beyond. Checks that
   every channel got exactly one post and prints the time against the minimum the limit allows.

Usage: .venv/bin/python bench/slack_bench.py [--rate 100] [--seconds 10] [--channels 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.slack_fakes import FakeSlack, sign, slash_body  # noqa: E402

SECRET = "bench-signing-secret"

BARE_BOLT = """
import os
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.adapter.aiohttp import to_bolt_request, to_aiohttp_response
from slack_sdk.web.async_client import AsyncWebClient

app = AsyncApp(signing_secret=os.environ["SECRET"],
               client=AsyncWebClient(token="xoxb-bare", base_url=os.environ["API"]))

@app.command("/aws-quiz")
async def command(ack):
    await ack("ok")

async def events(request):
    return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

web_app = web.Application()
web_app.router.add_post("/slack/events", events)
web.run_app(web_app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.post(url, data="") as response:
                    if response.status in (200, 401):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def load(url: str, rate: float, seconds: float, fake: FakeSlack) -> dict[str, float]:
    """Open loop: one request every 1/rate s, whatever the answers; latency of each ack."""
    latencies: list[float] = []
    statuses: dict[int, int] = defaultdict(int)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            body = slash_body(f"what is amazon s3 {i % 7}", user=f"U{i % 50}",
                              response_url=fake.response_url(i))
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] += 1
            latencies.append((time.perf_counter() - started) * 1000)

        total = int(rate * seconds)
        tasks = []
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()
    ok = statuses.get(200, 0)
    return {"sent": total, "ok": ok, "throughput": ok / elapsed,
            "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


async def ack_benchmark(rate: float, seconds: float) -> None:
    fake = await FakeSlack().start()
    ours_port, bare_port = free_port(), free_port()
    data = tempfile.mkdtemp()
    common = {**os.environ, "SLACK_API_URL": fake.api_url, "LOG_LEVEL": "WARNING"}
    ours = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port",
         str(ours_port)], cwd=ROOT, stdout=subprocess.DEVNULL,
        env={**common, "AWS_QUIZ_DATA": data, "SLACK_BOT_TOKEN": "xoxb-bench",
             "SLACK_SIGNING_SECRET": SECRET})
    bare = subprocess.Popen([sys.executable, "-c", BARE_BOLT], cwd=ROOT,
                            env={**common, "SECRET": SECRET, "API": fake.api_url,
                                 "PORT": str(bare_port)})
    try:
        results = {}
        for name, port in (("aws-quiz serve", ours_port), ("bare Bolt app", bare_port)):
            url = f"http://127.0.0.1:{port}/slack/events"
            await wait_up(url)
            await load(url, rate, 1.0, fake)  # warm-up
            results[name] = await load(url, rate, seconds, fake)
        answered = len(fake.responses)
    finally:
        for proc in (ours, bare):
            proc.terminate()
            proc.wait(timeout=20)
        await fake.close()
    print(f"\nSlash-command acknowledgements, {rate:.0f} requests/s for {seconds:.0f} s, "
          "signed, over HTTP on 127.0.0.1")
    print(f"{'app':<18}{'sent':>6}{'200s':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, r in results.items():
        print(f"{name:<18}{r['sent']:>6.0f}{r['ok']:>6.0f}{r['throughput']:>9.1f}"
              f"{r['p50']:>9.2f}{r['p99']:>9.2f}")
    ratio = results["aws-quiz serve"]["throughput"] / results["bare Bolt app"]["throughput"]
    print(f"throughput ratio aws-quiz / bare Bolt: {ratio:.2f} (target >= 0.8); "
          f"aws-quiz p99 {results['aws-quiz serve']['p99']:.1f} ms (target < 300 ms)")
    print(f"answers delivered to response URLs by aws-quiz: {answered}")


class RateLimitedSlack(FakeSlack):
    """1 message per second per channel; beyond that, 429 with Retry-After: 1."""

    def __init__(self) -> None:
        super().__init__()
        self.last_post: dict[str, float] = {}
        self.posted: dict[str, int] = defaultdict(int)
        self.limited = 0

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method in ("chat.postMessage", "chat.update"):
            params = await self._params(request)
            channel = str(params.get("channel"))
            now = time.monotonic()
            if now - self.last_post.get(channel, -10.0) < 1.0:
                self.limited += 1
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": "1"})
            self.last_post[channel] = now
            if method == "chat.postMessage":
                self.posted[channel] += 1
            self._ts += 1
            return web.json_response({"ok": True, "channel": channel, "ts": f"{self._ts}.1"})
        return await super()._api(request)


async def fanout_benchmark(channels: int) -> None:
    from adapters.slack.factory import build_slack_adapter
    from bot.app import build_core, load_checked
    from bot.config import Settings
    from bot.model import ConversationRef
    from bot.store.database import Database

    fake = RateLimitedSlack()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/fanout.db")
        await db.upgrade()
        settings = Settings.from_env()
        now = [datetime(2026, 11, 2, 9, 30, tzinfo=UTC)]
        core = build_core(settings, load_checked(settings), db=db, clock=lambda: now[0])
        adapter = build_slack_adapter(core, {"SLACK_BOT_TOKEN": "xoxb-bench",
                                             "SLACK_SIGNING_SECRET": SECRET,
                                             "SLACK_API_URL": fake.api_url})
        assert adapter is not None and core.daily is not None
        core.outbounds.add(adapter.outbound)
        for i in range(channels):
            channel = f"C{i:05d}"
            await core.daily.store.subscribe("slack", "T1", channel, "09:00", "UTC", "daily",
                                             60, "UADMIN")
            await core.remember(ConversationRef("slack", "T1", channel, {}))
        started = time.perf_counter()
        counts = await core.daily.run_due()
        posting = time.perf_counter() - started
        again = await core.daily.run_due()
        await db.dispose()
    await fake.close()
    once = sum(1 for n in fake.posted.values() if n == 1)
    print(f"\nDaily fan-out to {channels} channels (fake: 1 message/s per channel, 429 beyond)")
    print(f"{'measure':<46}{'value':>12}")
    print(f"{'channels posted exactly once':<46}{once:>12}")
    print(f"{'channels posted more than once':<46}"
          f"{sum(1 for n in fake.posted.values() if n > 1):>12}")
    print(f"{'posts in a second pass the same day':<46}{again['posted']:>12}")
    print(f"{'429 answers received':<46}{fake.limited:>12}")
    print(f"{'failed':<46}{counts['failed']:>12}")
    print(f"{'time for the pass':<46}{posting:>11.2f}s")
    print(f"{'minimum the limit allows (1 message/channel)':<46}{'~0.00':>11}s "
          "(the limit is per channel; every channel needs one message)")
    print(f"{'channels per second':<46}{channels / posting:>12.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--channels", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(ack_benchmark(args.rate, args.seconds))
    asyncio.run(fanout_benchmark(args.channels))


if __name__ == "__main__":
    main()
