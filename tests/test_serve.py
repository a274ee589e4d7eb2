"""`aws-quiz serve` as a whole process: health, readiness, Slack over HTTP, refusals."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import ROOT, run_cli
from tests.slack_fakes import FakeSlack, sign, slash_body

SECRET = "process-secret-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.close()


async def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server did not start")


async def test_serve_answers_health_readiness_and_signed_slack_commands(
        fake: FakeSlack, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "AWS_QUIZ_DATA": str(tmp_path), "PORT": str(port),
           "SLACK_BOT_TOKEN": "xoxb-process-token", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url}
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "serve", "--host",
                             "127.0.0.1"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/readyz") as response:
                ready = await response.json()
                assert response.status == 200
                assert ready["checks"] == {"knowledge": True, "database": True, "slack": True}
            body = slash_body("what is amazon ebs", response_url=fake.response_url(1))
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
            async with session.post(f"{url}/slack/events", data=body,
                                    headers=headers) as response:
                assert response.status == 200
            await fake.wait_for(lambda: bool(fake.responses), timeout=10)
            assert "Elastic Block Store" in fake.responses[0][1]["text"]
            forged = {**headers, "X-Slack-Signature": "v0=" + "0" * 64}
            async with session.post(f"{url}/slack/events", data=body,
                                    headers=forged) as response:
                assert response.status == 401
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    logs = err.decode()
    assert "xoxb-process-token" not in logs and SECRET not in logs, "secrets never logged"
    assert "aws-quiz ready" in logs


def test_http_mode_without_signing_secret_refuses_to_start(tmp_path: Path) -> None:
    result = run_cli("serve", env={"AWS_QUIZ_DATA": str(tmp_path), "SLACK_BOT_TOKEN": "xoxb-1",
                                   "SLACK_SIGNING_SECRET": ""})
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr and "Traceback" not in result.stderr
