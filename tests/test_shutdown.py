"""Nothing acknowledged is lost: `aws-quiz serve` as whole processes against the fake Slack API.

SIGTERM lets a replica finish what it acknowledged and exit 0; what it cannot finish within its
grace period, or what a replica killed with SIGKILL leaves, is finished by another replica from
the work table in the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import ROOT
from tests.slack_fakes import FakeSlack, sign, slash_body
from tests.test_serve import free_port

SECRET = "shutdown-signing-secret"


@pytest.fixture()
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.close()


class Replica:
    """One `aws-quiz serve` process; its log goes to a file."""

    def __init__(self, fake: FakeSlack, data: Path, name: str, **extra: str) -> None:
        self.port = free_port()
        self.log = data / f"{name}.log"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "Microsoft", "TEAMS_", "AWS_QUIZ_ENV"))}
        env.update({"AWS_QUIZ_DATA": str(data), "SLACK_BOT_TOKEN": "xoxb-shutdown",
                    "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
                    "AWS_QUIZ_WORK_LEASE_SECONDS": "5", "AWS_QUIZ_SCHEDULER_SECONDS": "3600",
                    "LOG_LEVEL": "INFO", **extra})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port",
             str(self.port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)


@contextmanager
def replicas(*started: Replica) -> Iterator[None]:
    try:
        yield
    finally:
        for replica in started:
            replica.stop()


async def send_commands(url: str, fake: FakeSlack, first: int, count: int) -> None:
    """Signed `/aws-quiz` commands, each with its own response_url; all acknowledged."""
    async with aiohttp.ClientSession() as session:

        async def one(n: int) -> int:
            body = slash_body("what is amazon s3", user=f"U{n}", response_url=fake.response_url(n))
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
            async with session.post(f"{url}/slack/events", data=body,
                                    headers=headers) as response:
                return response.status

        statuses = await asyncio.gather(*(one(n) for n in range(first, first + count)))
    assert statuses == [200] * count, "every command was acknowledged"


async def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    """Until /healthz answers (a loaded machine may take a while to import and load)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(int(timeout * 10)):
            assert proc.poll() is None, "the server exited"
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server did not start")


def answered(fake: FakeSlack) -> set[int]:
    return {int(n) for n, _ in fake.responses}


async def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    for _ in range(int(timeout * 10)):
        if proc.poll() is not None:
            return proc.returncode
        await asyncio.sleep(0.1)
    return None


async def test_sigterm_finishes_every_acknowledged_command_then_exits_0(
        fake: FakeSlack, tmp_path: Path) -> None:
    replica = Replica(fake, tmp_path, "a", AWS_QUIZ_SHUTDOWN_GRACE_SECONDS="20")
    with replicas(replica):
        await wait_ready(replica.url, replica.proc)
        fake.latency = 1.0  # every Slack call takes a second: work is in flight
        await send_commands(replica.url, fake, 1, 30)
        replica.proc.send_signal(signal.SIGTERM)
        assert await wait_exit(replica.proc, 60) == 0
    assert answered(fake) == set(range(1, 31)), "all 30 acknowledged commands were answered"
    logs = replica.logs()
    assert "SIGTERM: stopping" in logs and "all work finished" in logs
    assert "Traceback" not in logs


async def test_work_a_killed_or_stopped_replica_leaves_is_finished_by_another(
        fake: FakeSlack, tmp_path: Path) -> None:
    first = Replica(fake, tmp_path, "first", AWS_QUIZ_SHUTDOWN_GRACE_SECONDS="1")
    second = Replica(fake, tmp_path, "second", AWS_QUIZ_SHUTDOWN_GRACE_SECONDS="1")
    with replicas(first, second):
        await wait_ready(first.url, first.proc)
        await wait_ready(second.url, second.proc)

        # kill -9 mid answer: the second replica takes the work over when its lease ends.
        fake.latency = 3.0
        await send_commands(first.url, fake, 1, 10)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
        assert answered(fake) == set(), "killed before anything was answered"
        fake.latency = 0.0
        await fake.wait_for(lambda: answered(fake) >= set(range(1, 11)), timeout=60)

        # SIGTERM with work that cannot finish in the grace period: it is released at once
        # and finished by the next replica to come up.
        fake.latency = 6.0
        await send_commands(second.url, fake, 11, 10)
        second.proc.send_signal(signal.SIGTERM)
        assert await wait_exit(second.proc, 30) == 0
        assert "released for another replica" in second.logs()
        fake.latency = 0.0
        third = Replica(fake, tmp_path, "third")
        with replicas(third):
            await wait_ready(third.url, third.proc)
            await fake.wait_for(lambda: answered(fake) >= set(range(1, 21)), timeout=60)
            assert "acknowledged by another replica" in third.logs()
    assert answered(fake) == set(range(1, 21)), "every acknowledged command was answered"


async def test_two_workers_share_one_port_answer_and_stop_together(
        fake: FakeSlack, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "Microsoft", "TEAMS_", "AWS_QUIZ_ENV"))}
    env.update({"AWS_QUIZ_DATA": str(tmp_path), "SLACK_BOT_TOKEN": "xoxb-workers",
                "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
                "LOG_LEVEL": "INFO"})
    log = tmp_path / "workers.log"
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "serve", "--host",
                             "127.0.0.1", "--port", str(port), "--workers", "2"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        pids: set[int] = set()
        connector = aiohttp.TCPConnector(force_close=True)  # a new connection each time
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(600):
                try:
                    async with session.get(f"{url}/healthz") as response:
                        pids.add((await response.json())["pid"])
                except aiohttp.ClientError:
                    pass
                if len(pids) == 2:
                    break
                await asyncio.sleep(0.05)
        assert len(pids) == 2 and proc.pid not in pids, "two worker processes, one port"
        await send_commands(url, fake, 1, 20)
        await fake.wait_for(lambda: answered(fake) == set(range(1, 21)), timeout=60)
        proc.send_signal(signal.SIGTERM)
        assert await wait_exit(proc, 60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=20)
    logs = log.read_text()
    assert "with 2 worker processes" in logs and "exit codes [0, 0]" in logs
