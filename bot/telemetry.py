"""A tiny platform-free port for counters and observations; it does nothing until a sink is set.

The core says what happened in one line, without knowing who listens:

    from bot import telemetry
    telemetry.count("answers", mode=showing.mode, correct=correct)
    telemetry.observe("roleplay_score", result.score, topic=scenario.topic)

The server installs a sink that turns these into Prometheus metrics (`adapters.metrics`); tests,
the console and `aws-quiz` commands keep the default, which drops them. Names and label names
are fixed by the sink's catalogue: an unknown name or label is ignored, so a typo never takes a
request down. Label values are turned into short strings (`True` -> "true").
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)

Label = str | bool | int | None


class Sink(Protocol):
    """Where counts and observations go."""

    def count(self, name: str, amount: float, labels: dict[str, str]) -> None: ...

    def observe(self, name: str, value: float, labels: dict[str, str]) -> None: ...


class NoTelemetry:
    """The default sink: forgets everything."""

    def count(self, name: str, amount: float, labels: dict[str, str]) -> None:
        return None

    def observe(self, name: str, value: float, labels: dict[str, str]) -> None:
        return None


_sink: Sink = NoTelemetry()


def _text(value: Label) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)[:40]


def install(sink: Sink | None) -> Sink:
    """Send from now on to `sink` (None: back to the no-op); returns the previous sink."""
    global _sink
    previous, _sink = _sink, sink if sink is not None else NoTelemetry()
    return previous


def count(name: str, amount: float = 1.0, **labels: Label) -> None:
    """Something happened `amount` times (an answer recorded, a daily post, a role-play turn)."""
    try:
        _sink.count(name, amount, {k: _text(v) for k, v in labels.items()})
    except Exception:  # noqa: BLE001 - measuring must never break what it measures
        log.debug("telemetry: could not count %s", name, exc_info=True)


def observe(name: str, value: float, **labels: Label) -> None:
    """One measurement (a duration in seconds, a score) for a histogram."""
    try:
        _sink.observe(name, value, {k: _text(v) for k, v in labels.items()})
    except Exception:  # noqa: BLE001
        log.debug("telemetry: could not observe %s", name, exc_info=True)
