"""Prometheus metrics for `/metrics`: the catalogue, the telemetry sink, and what the server sees.

Every metric is declared here once (docs/operations.md lists them). Three sources feed them:

- the HTTP middleware (`adapters.server`): requests by platform, kind and status, and latency;
- the core through the `bot.telemetry` port (answers, role-play turns, daily posts), the
  scheduler loop (each pass's counts), reloads, and every ERROR log line;
- the database at scrape time (`DatabaseGauges`): work items by status, the oldest pending one,
  daily posts still unconfirmed.

One process: the default registry. `serve --workers N`: prometheus-client's multiprocess mode.
The parent gives every worker one directory (`PROMETHEUS_MULTIPROC_DIR`), each worker writes its
values there, and `/metrics` on any worker adds them all up (counters and histograms summed,
knowledge gauges per pid, the last scheduler pass the latest of all). The variable must be set
before this module is first imported, which the parent does in the workers' environment.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bot import telemetry
from bot.store.database import Database, as_utc, utcnow
from bot.store.tables import daily_posts, work_items

log = logging.getLogger(__name__)

disable_created_metrics()  # no `_created` series: half the lines, nothing an alert uses

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if MULTIPROCESS:
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter("aws_quiz_requests", "HTTP requests answered, by platform, kind and status",
                   ["platform", "kind", "status"])
LATENCY = Histogram("aws_quiz_request_seconds", "Time to answer an HTTP request (the "
                    "acknowledgement: Slack work goes on after it)", ["platform", "kind"],
                    buckets=LATENCY_BUCKETS)
ERRORS = Counter("aws_quiz_errors", "Errors: 5xx answers (http), failed scheduler passes "
                 "(daily), refused or failed reloads (reload), ERROR log lines (log)", ["where"])
ANSWERS = Counter("aws_quiz_answers", "Quiz answers recorded, by mode and correctness",
                  ["mode", "correct"])
ROLEPLAY_TURNS = Counter("aws_quiz_roleplay_turns", "Role-play replies graded", ["topic", "band"])
ROLEPLAY_SCORE = Histogram("aws_quiz_roleplay_score", "Role-play reply scores (0-100)", ["topic"],
                           buckets=(10, 20, 30, 40, 50, 60, 70, 80, 90, 100))
DAILY_POSTS = Counter("aws_quiz_daily_posts", "Daily questions by outcome (posted, failed, "
                      "unconfirmed)", ["platform", "outcome"])
DAILY_REVEALS = Counter("aws_quiz_daily_reveals", "Daily answer reveals by outcome (revealed, "
                        "failed, unconfirmed)", ["platform", "outcome"])
DAILY_PASS_ITEMS = Counter("aws_quiz_daily_pass_items", "What the scheduler passes did "
                           "(posted, revealed, failed), as `run_due` counts them", ["outcome"])
DAILY_PASSES = Counter("aws_quiz_daily_passes", "Scheduler passes, by result (ok, error)",
                       ["result"])
DAILY_LAST_PASS = Gauge("aws_quiz_daily_last_pass_timestamp_seconds", "When the last scheduler "
                        "pass ended (Unix time)", multiprocess_mode="max")
RELOADS = Counter("aws_quiz_knowledge_reloads", "Knowledge reloads by result (reloaded, "
                  "unchanged, refused, failed)", ["result"])
KNOWLEDGE_INFO = Gauge("aws_quiz_knowledge_info", "The knowledge set in service: 1 for its "
                       "version (content hash)", ["version"], multiprocess_mode="liveall")
KNOWLEDGE_ITEMS = Gauge("aws_quiz_knowledge_items", "Items in the knowledge set in service",
                        ["kind"], multiprocess_mode="liveall")
KNOWLEDGE_LOADED = Gauge("aws_quiz_knowledge_loaded_timestamp_seconds", "When the knowledge set "
                         "in service was loaded (Unix time)", multiprocess_mode="liveall")

# name used by the core -> (metric, label names it accepts)
_COUNTERS: dict[str, tuple[Counter, tuple[str, ...]]] = {
    "answers": (ANSWERS, ("mode", "correct")),
    "roleplay_turns": (ROLEPLAY_TURNS, ("topic", "band")),
    "daily_posts": (DAILY_POSTS, ("platform", "outcome")),
    "daily_reveals": (DAILY_REVEALS, ("platform", "outcome")),
    "errors": (ERRORS, ("where",)),
}
_HISTOGRAMS: dict[str, tuple[Histogram, tuple[str, ...]]] = {
    "roleplay_score": (ROLEPLAY_SCORE, ("topic",)),
}


class PrometheusSink:
    """`bot.telemetry` into the metrics above; unknown names are dropped (logged at DEBUG)."""

    def count(self, name: str, amount: float, labels: dict[str, str]) -> None:
        known = _COUNTERS.get(name)
        if known is None:
            log.debug("telemetry: no metric named %s", name)
            return
        metric, names = known
        metric.labels(*(labels.get(n, "") for n in names)).inc(amount)

    def observe(self, name: str, value: float, labels: dict[str, str]) -> None:
        known = _HISTOGRAMS.get(name)
        if known is None:
            log.debug("telemetry: no histogram named %s", name)
            return
        metric, names = known
        metric.labels(*(labels.get(n, "") for n in names)).observe(value)


class CountErrors(logging.Handler):
    """Counts ERROR (and worse) log lines: `log.exception` anywhere shows on the dashboard."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        ERRORS.labels("log").inc()


def install() -> None:
    """Route the core's telemetry and ERROR log lines into the metrics (once per process)."""
    telemetry.install(PrometheusSink())
    root = logging.getLogger()
    if not any(isinstance(h, CountErrors) for h in root.handlers):
        root.addHandler(CountErrors())


# -- what the server sees ------------------------------------------------------------------------

def classify(path: str, body: bytes) -> tuple[str, str]:
    """(platform, kind) of a request, from a fixed set of values (labels stay few)."""
    if path.startswith("/slack/"):
        return "slack", _slack_kind(path, body)
    if path == "/api/messages":
        return "teams", _teams_kind(body)
    own = {"/healthz": "health", "/readyz": "health", "/metrics": "metrics",
           "/-/reload": "admin"}
    return "server", own.get(path, "other")


def _slack_kind(path: str, body: bytes) -> str:
    if path != "/slack/events":
        return "install"
    try:
        text = body.decode("utf-8")
        if text.startswith("{"):
            payload: Any = json.loads(text)
        else:
            form = dict(parse_qsl(text))
            if "command" in form:
                return "command"
            payload = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, KeyError, RecursionError):
        return "other"
    if not isinstance(payload, dict):
        return "other"
    kind = payload.get("type")
    if kind in ("block_actions", "view_submission", "interactive_message"):
        return "action"
    if kind == "event_callback":
        event = payload.get("event")
        if isinstance(event, dict) and event.get("type") == "message":
            return "message"
        return "event"
    return "event" if kind == "url_verification" else "other"


def _teams_kind(body: bytes) -> str:
    try:
        activity = json.loads(body)
    except (ValueError, RecursionError):
        return "other"
    if not isinstance(activity, dict):
        return "other"
    if activity.get("type") == "message":
        return "action" if activity.get("value") else "message"
    return "event" if isinstance(activity.get("type"), str) else "other"


def record_request(platform: str, kind: str, status: int, seconds: float) -> None:
    REQUESTS.labels(platform, kind, str(status)).inc()
    LATENCY.labels(platform, kind).observe(seconds)
    if status >= 500:
        ERRORS.labels("http").inc()


def record_daily_pass(counts: Mapping[str, int] | None) -> None:
    """One scheduler pass ended: its counts (None when the pass raised)."""
    DAILY_PASSES.labels("ok" if counts is not None else "error").inc()
    if counts is None:
        ERRORS.labels("daily").inc()
    for outcome, n in (counts or {}).items():
        if n:
            DAILY_PASS_ITEMS.labels(outcome).inc(n)
    DAILY_LAST_PASS.set(time.time())


def record_knowledge(version: str, items: Mapping[str, int], previous: str | None = None) -> None:
    """The knowledge set in service is now `version`."""
    if previous and previous != version:
        KNOWLEDGE_INFO.labels(previous).set(0)
    KNOWLEDGE_INFO.labels(version).set(1)
    for kind, n in items.items():
        KNOWLEDGE_ITEMS.labels(kind).set(n)
    KNOWLEDGE_LOADED.set(time.time())


def record_reload(result: str) -> None:
    RELOADS.labels(result).inc()
    if result in ("refused", "failed"):
        ERRORS.labels("reload").inc()


# -- read from the database at scrape time --------------------------------------------------------

class DatabaseGauges(Collector):
    """Work items and daily posts as the database has them (the same answer in every replica)."""

    def __init__(self, db: Database | None) -> None:
        self.db = db
        self.work: dict[str, int] = {}
        self.oldest_pending = 0.0
        self.unconfirmed = 0
        self.ok = False

    async def refresh(self) -> None:
        if self.db is None:
            return
        try:
            now = utcnow()
            rows = await self.db.rows(select(work_items.c.status, func.count())
                                      .group_by(work_items.c.status))
            self.work = {str(r[0]): int(r[1]) for r in rows}
            oldest = await self.db.first(select(func.min(work_items.c.created_at))
                                         .where(work_items.c.status == "pending"))
            created: datetime | None = as_utc(oldest[0]) if oldest else None
            self.oldest_pending = max(0.0, (now - created).total_seconds()) if created else 0.0
            unconfirmed = await self.db.first(select(func.count()).select_from(daily_posts)
                                              .where(daily_posts.c.outcome == "unconfirmed"))
            self.unconfirmed = int(unconfirmed[0]) if unconfirmed else 0
            self.ok = True
        except Exception:  # noqa: BLE001 - a scrape must answer even when the database does not
            log.warning("metrics: could not read the database", exc_info=True)
            self.ok = False

    def collect(self) -> Iterable[GaugeMetricFamily]:
        if self.db is None:
            return
        up = GaugeMetricFamily("aws_quiz_database_up", "1 when the last scrape could read the "
                               "database")
        up.add_metric([], 1 if self.ok else 0)
        yield up
        work = GaugeMetricFamily("aws_quiz_work_items", "Acknowledged work items by status "
                                 "(pending: not finished yet)", labels=["status"])
        for status in sorted({"pending", "done", "failed", *self.work}):
            work.add_metric([status], self.work.get(status, 0))
        yield work
        oldest = GaugeMetricFamily("aws_quiz_work_oldest_pending_seconds", "Age of the oldest "
                                   "pending work item (0 when none)")
        oldest.add_metric([], self.oldest_pending)
        yield oldest
        unconfirmed = GaugeMetricFamily("aws_quiz_daily_unconfirmed_posts", "Daily posts whose "
                                        "delivery could not be confirmed")
        unconfirmed.add_metric([], self.unconfirmed)
        yield unconfirmed


class MetricsEndpoint:
    """`GET /metrics`: this process's (or every worker's) metrics and the database gauges."""

    def __init__(self, db: Database | None) -> None:
        self.database = DatabaseGauges(db)
        self.extra = CollectorRegistry(auto_describe=False)
        self.extra.register(self.database)

    def _process_registry(self) -> CollectorRegistry:
        if not MULTIPROCESS:
            return REGISTRY
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry

    async def render(self) -> tuple[bytes, str]:
        await self.database.refresh()
        body = generate_latest(self._process_registry()) + generate_latest(self.extra)
        return body, CONTENT_TYPE_LATEST

