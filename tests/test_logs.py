"""Logs an operator can search: with LOG_FORMAT=json every line is one JSON object, each line a
request causes (also after Slack's acknowledgement) carries its request id and platform, the id
is returned as X-Request-Id, and no secret or message text reaches the log.
"""

from __future__ import annotations

import json
import logging
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters import logs
from tests.slack_fakes import FakeSlack, sign, slash_body
from tests.test_shutdown import SECRET, Replica, replicas, wait_exit, wait_ready


@pytest.fixture()
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.close()


async def command(url: str, text: str, n: int, fake: FakeSlack, secret: str = SECRET,
                  request_id: str | None = None) -> tuple[int, str]:
    body = slash_body(text, response_url=fake.response_url(n))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body)}
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
            return response.status, response.headers.get("X-Request-Id", "")


async def test_json_logs_carry_request_id_and_platform_and_no_text_or_secret(
        fake: FakeSlack, tmp_path: Path) -> None:
    replica = Replica(fake, tmp_path, "json", LOG_FORMAT="json")
    with replicas(replica):
        await wait_ready(replica.url, replica.proc)
        fake.throttle["users.info"] = 100  # fails after the ack: a warning in the work
        status, rid = await command(replica.url, "what is amazon ebs plumtart", 1, fake,
                                    request_id="req-from-proxy-1")
        assert (status, rid) == (200, "req-from-proxy-1")
        status, generated = await command(replica.url, "what is amazon s3 plumtart", 2, fake,
                                          request_id="not a sane id\u00e9")
        assert status == 200 and re.fullmatch(r"[0-9a-f]{32}", generated)
        status, _ = await command(replica.url, "forged quincebun", 3, fake, secret="wrong-secret")
        assert status == 401
        await fake.wait_for(lambda: len(fake.responses) == 2, timeout=30)
        replica.proc.send_signal(signal.SIGTERM)
        assert await wait_exit(replica.proc, 30) == 0
    lines = [json.loads(line) for line in replica.logs().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message", "pid"} <= set(line)
                         for line in lines), "every line is one JSON object"
    mine = [line for line in lines if line.get("request_id") == "req-from-proxy-1"]
    assert {line["platform"] for line in mine} == {"slack"}
    assert any("/slack/events command -> 200" in line["message"] for line in mine)
    assert any("users.info failed" in line["message"] for line in mine), \
        "work done after the acknowledgement keeps the request's id"
    assert any(line.get("request_id") == generated for line in lines)
    assert any("invalid signature" in line["message"] and line.get("request_id")
               for line in lines)
    assert not any("listening on" in line["message"] and "request_id" in line for line in lines)
    text = replica.logs()
    assert "plumtart" not in text and "quincebun" not in text, "no message text in the log"
    assert SECRET not in text and "xoxb-shutdown" not in text, "no secret in the log"


def test_text_lines_end_with_the_request_id_and_platform() -> None:
    formatter = logs.TextFormatter()
    context = logs.RequestContext()

    def line(message: str) -> str:
        record = logging.LogRecord("adapters.test", logging.INFO, __file__, 1, message, None,
                                   None)
        context.filter(record)
        return formatter.format(record)

    assert line("outside").endswith("adapters.test: outside")
    rid, where = logs.request_id.set("abc123"), logs.platform.set("teams")
    try:
        assert line("inside").endswith("adapters.test: inside [abc123 teams]")
    finally:
        logs.request_id.reset(rid)
        logs.platform.reset(where)
