"""Decide from the environment which platforms to host, refusing unsafe configurations clearly."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from adapters.errors import ConfigError
from adapters.platform import PlatformAdapter
from bot.app import Core

__all__ = ["ConfigError", "build_adapters"]

log = logging.getLogger(__name__)


def build_adapters(core: Core, env: Mapping[str, str],
                   bind_host: str | None = None) -> list[PlatformAdapter]:
    """The Slack and Teams adapters the environment asks for (possibly none).

    `bind_host` is where `serve` listens (None when nothing listens): Teams local mode refuses
    to run on anything but a loopback address.
    """
    adapters: list[PlatformAdapter] = []
    from adapters.slack.factory import build_slack_adapter

    slack = build_slack_adapter(core, env)
    if slack is not None:
        adapters.append(slack)
    try:
        from adapters.teams.factory import build_teams_adapter
    except ImportError:  # pragma: no cover - the Teams package is optional at import time
        build_teams_adapter = None  # type: ignore[assignment]
    if build_teams_adapter is not None:
        teams = build_teams_adapter(core, env, bind_host)
        if teams is not None:
            adapters.append(teams)
    if not adapters:
        log.warning("Slack and Teams are both off: serving only /healthz and /readyz "
                    "(see docs/operations.md)")
    return adapters
