"""`/metrics` under load: `aws-quiz serve` answers signed Slack commands and a Teams message, and
the Prometheus counters, histograms and gauges move; with two workers every scrape adds up both.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters import metrics
from bot import telemetry
from bot.knowledge import KnowledgeBase
from bot.reload import knowledge_version
from tests.conftest import KNOWLEDGE, ROOT
from tests.slack_fakes import FakeSlack, sign, slash_body
from tests.teams_fakes import FakeConnector, personal
from tests.test_serve import free_port
from tests.test_shutdown import SECRET, Replica, answered, replicas, send_commands, wait_exit, wait_ready


@pytest.fixture()
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.close()


@pytest.fixture()
async def connector() -> AsyncIterator[FakeConnector]:
    teams = await FakeConnector().start()
    yield teams
    await teams.close()


Samples = list[tuple[str, dict[str, str], float]]


def parse(text: str) -> Samples:
    return [(s.name, dict(s.labels), s.value) for family in text_string_to_metric_families(text)
            for s in family.samples]


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels` (0 when none)."""
    return sum(v for n, ls, v in samples if n == name
               and all(ls.get(k) == want for k, want in labels.items()))


async def scrape(url: str) -> Samples:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            return parse(await response.text())


async def test_metrics_move_under_a_short_load(fake: FakeSlack, connector: FakeConnector,
                                               tmp_path: Path, kb: KnowledgeBase) -> None:
    replica = Replica(fake, tmp_path, "metrics", TEAMS_LOCAL="true")
    with replicas(replica):
        await wait_ready(replica.url, replica.proc)
        before = await scrape(replica.url)
        await send_commands(replica.url, fake, 1, 5)
        async with aiohttp.ClientSession() as session:
            body = slash_body("what is amazon s3", response_url=fake.response_url(99))
            forged = {"Content-Type": "application/x-www-form-urlencoded",
                      **sign("not-the-secret", body)}
            async with session.post(f"{replica.url}/slack/events", data=body,
                                    headers=forged) as response:
                assert response.status == 401
            async with session.post(f"{replica.url}/api/messages",
                                    json=personal(connector.url, "what is amazon ebs")) as response:
                assert response.status < 300
        await fake.wait_for(lambda: answered(fake) == set(range(1, 6)), timeout=30)
        for _ in range(100):
            if connector.sent:
                break
            await asyncio.sleep(0.1)
        after = await scrape(replica.url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("aws_quiz_requests_total", platform="slack", kind="command", status="200") == 5
    assert moved("aws_quiz_requests_total", platform="slack", kind="command", status="401") == 1
    assert moved("aws_quiz_requests_total", platform="teams", kind="message") == 1
    assert moved("aws_quiz_request_seconds_count", platform="slack", kind="command") == 6
    assert moved("aws_quiz_request_seconds_bucket", platform="slack", kind="command",
                 le="+Inf") == 6
    assert value(after, "aws_quiz_request_seconds_sum", platform="slack", kind="command") > 0
    version = knowledge_version(KNOWLEDGE).digest
    assert value(after, "aws_quiz_knowledge_info", version=version) == 1
    assert value(after, "aws_quiz_knowledge_items", kind="questions") == len(kb.questions)
    assert value(after, "aws_quiz_knowledge_items", kind="entries") == len(kb.entries)
    assert value(after, "aws_quiz_work_items", status="done") == 5, "five commands, all done"
    assert value(after, "aws_quiz_work_items", status="pending") == 0
    assert value(after, "aws_quiz_work_oldest_pending_seconds") == 0
    assert value(after, "aws_quiz_daily_passes_total", result="ok") >= 1
    assert value(after, "aws_quiz_daily_last_pass_timestamp_seconds") > 0
    assert value(after, "aws_quiz_database_up") == 1
    assert value(after, "aws_quiz_errors_total") == 0


def test_the_core_reports_through_the_telemetry_port() -> None:
    """What the core counts (one line in a feature) lands in its metric; unknown names and
    labels are dropped rather than raising in the middle of a user's request."""
    previous = telemetry.install(None)
    try:
        def current(name: str, **labels: str) -> float:
            from prometheus_client import REGISTRY, generate_latest

            return value(parse(generate_latest(REGISTRY).decode()), name, **labels)

        before = current("aws_quiz_answers_total", mode="exam", correct="true")
        telemetry.count("answers", mode="exam", correct=True)
        assert current("aws_quiz_answers_total", mode="exam", correct="true") == before, \
            "without a sink nothing is counted"
        metrics.install()
        telemetry.count("answers", mode="exam", correct=True)
        telemetry.count("answers", mode="exam", correct=True, extra="ignored")
        telemetry.count("no_such_metric", mode="exam")
        telemetry.count("daily_posts", platform="slack", outcome="unconfirmed")
        turns = current("aws_quiz_roleplay_turns_total", topic="cost", band="good")
        telemetry.count("roleplay_turns", topic="cost", band="good")
        telemetry.observe("roleplay_score", 72, topic="cost")
        assert current("aws_quiz_answers_total", mode="exam", correct="true") == before + 2
        assert current("aws_quiz_daily_posts_total", platform="slack",
                       outcome="unconfirmed") >= 1
        assert current("aws_quiz_roleplay_turns_total", topic="cost", band="good") == turns + 1
        assert current("aws_quiz_roleplay_score_bucket", topic="cost", le="80.0") >= 1
    finally:
        telemetry.install(previous)
        root = logging.getLogger()
        root.handlers[:] = [h for h in root.handlers if not isinstance(h, metrics.CountErrors)]


async def test_two_workers_report_the_sum_of_both_on_every_scrape(
        fake: FakeSlack, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "Microsoft", "TEAMS_", "AWS_QUIZ_ENV", "PROMETHEUS"))}
    env.update({"AWS_QUIZ_DATA": str(tmp_path), "SLACK_BOT_TOKEN": "xoxb-workers",
                "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")})
    log = tmp_path / "workers.log"
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "serve", "--host",
                             "127.0.0.1", "--port", str(port), "--workers", "2"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        pids: set[int] = set()
        connector = aiohttp.TCPConnector(force_close=True)  # a new connection, any worker
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(600):
                async with session.get(f"{url}/healthz") as response:
                    pids.add((await response.json())["pid"])
                if len(pids) == 2:
                    break
                await asyncio.sleep(0.05)
        assert len(pids) == 2
        await send_commands(url, fake, 1, 12)
        await fake.wait_for(lambda: answered(fake) == set(range(1, 13)), timeout=60)
        seen = set()
        for _ in range(6):
            samples = await scrape(url)
            seen.add(value(samples, "aws_quiz_requests_total", platform="slack",
                           kind="command", status="200"))
            assert value(samples, "aws_quiz_knowledge_info") == 2, "one version, two workers"
        assert seen == {12}, "every scrape, whichever worker answers it, counts all 12"
        proc.send_signal(signal.SIGTERM)
        assert await wait_exit(proc, 60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=20)


async def test_a_quiz_answer_and_a_roleplay_turn_move_their_metrics(kb: KnowledgeBase,
                                                                    db: object) -> None:
    """The features' own telemetry lines: one answered question and one graded reply."""
    from prometheus_client import REGISTRY, generate_latest

    from bot.app import build_core
    from bot.config import Settings
    from bot.roleplay.grader import BANDS
    from tests.fakes import FakeChat

    core_with_db = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db)  # type: ignore[arg-type]

    def current(name: str, **labels: str) -> float:
        return value(parse(generate_latest(REGISTRY).decode()), name, **labels)

    previous = telemetry.install(None)
    try:
        metrics.install()
        chat = FakeChat(core_with_db.router)
        [question] = await chat.push("quiz storage")
        before = {c: current("aws_quiz_answers_total", mode="quiz", correct=c)
                  for c in ("true", "false")}
        await chat.click(question.choices[0])
        after = {c: current("aws_quiz_answers_total", mode="quiz", correct=c)
                 for c in ("true", "false")}
        assert sum(after.values()) == sum(before.values()) + 1

        bands = [label for _, label in BANDS]
        turns = sum(current("aws_quiz_roleplay_turns_total", topic="cost", band=band)
                    for band in bands)
        await chat.push("roleplay cost")
        await chat.push("I understand. What worries you most about the cost of moving?")
        assert sum(current("aws_quiz_roleplay_turns_total", topic="cost", band=band)
                   for band in bands) == turns + 1
    finally:
        telemetry.install(previous)
