"""`aws-quiz serve` as a whole process with Teams: local mode answers through a fake connector;
with an app id a request without a token gets 401 and nothing is sent; production refuses
local mode.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import ROOT, run_cli
from tests.teams_fakes import APP_ID, FakeConnector, channel, personal

PASSWORD = "process-secret-password"


def clean_env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "Microsoft", "TEAMS_", "AWS_QUIZ_ENV"))}
    return {**keep, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "serve", "--host",
                             "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(150):
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server did not start")


async def post(url: str, activity: dict[str, object], token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/api/messages", json=activity, headers=headers) as answer:
            return answer.status


@pytest.fixture()
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    yield fake
    await fake.close()


async def test_serve_in_local_mode_answers_teams_through_the_connector(
        connector: FakeConnector, tmp_path: Path) -> None:
    with serving(clean_env(AWS_QUIZ_DATA=str(tmp_path), TEAMS_LOCAL="true")) as (url, proc):
        await wait_ready(url, proc)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/readyz") as response:
                assert (await response.json())["checks"]["teams"] is True
        assert await post(url, personal(connector.url, "topics")) == 200
        assert await post(url, channel(connector.url, "topics")) == 200
        assert ["Course topics" in text for text in connector.texts()] == [True, True]
    logs = proc.stderr.read().decode() if proc.stderr else ""
    assert "LOCAL MODE" in logs


async def test_serve_with_an_app_id_refuses_a_request_without_a_token(
        connector: FakeConnector, tmp_path: Path) -> None:
    env = clean_env(AWS_QUIZ_DATA=str(tmp_path), MicrosoftAppId=APP_ID,
                    MicrosoftAppPassword=PASSWORD)
    with serving(env) as (url, proc):
        await wait_ready(url, proc)
        assert await post(url, personal(connector.url, "help")) == 401
        assert await post(url, personal(connector.url, "help"), token="garbage") == 401
    assert connector.calls == [] and connector.token_requests == []
    logs = proc.stderr.read().decode() if proc.stderr else ""
    assert PASSWORD not in logs and "LOCAL MODE" not in logs


def test_production_refuses_teams_without_an_app_id(tmp_path: Path) -> None:
    result = run_cli("serve", env=clean_env(AWS_QUIZ_DATA=str(tmp_path), AWS_QUIZ_ENV="production",
                                            TEAMS_LOCAL="true"))
    assert result.returncode == 2
    assert "MicrosoftAppId" in result.stderr and "Traceback" not in result.stderr


def test_local_mode_refuses_to_listen_on_every_interface(tmp_path: Path) -> None:
    result = run_cli("serve", "--host", "0.0.0.0", "--port", str(free_port()),
                     env=clean_env(AWS_QUIZ_DATA=str(tmp_path), TEAMS_LOCAL="true"))
    assert result.returncode == 2
    assert "loopback" in result.stderr and "Traceback" not in result.stderr


async def test_with_only_slack_configured_there_is_no_unauthenticated_teams_endpoint(
        connector: FakeConnector, tmp_path: Path) -> None:
    env = clean_env(AWS_QUIZ_DATA=str(tmp_path), SLACK_BOT_TOKEN="xoxb-only-slack",
                    SLACK_SIGNING_SECRET="only-slack-secret", SLACK_API_URL=connector.url + "/api/")
    with serving(env) as (url, proc):
        await wait_ready(url, proc)
        assert await post(url, personal(connector.url, "help")) == 404
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/readyz") as response:
                assert "teams" not in (await response.json())["checks"]
    assert connector.calls == []
    logs = proc.stderr.read().decode() if proc.stderr else ""
    assert "LOCAL MODE" not in logs
