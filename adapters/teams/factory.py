"""Build the Teams adapter from the environment (see `settings` for what each variable does)."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.errors import ConfigError
from adapters.platform import PlatformAdapter
from adapters.teams.settings import TeamsConfigError, TeamsSettings
from bot.app import Core


def build_teams_adapter(core: Core, env: Mapping[str, str]) -> PlatformAdapter | None:
    """None when Teams is not asked for; ConfigError when the set-up is unsafe or incomplete."""
    try:
        settings = TeamsSettings.from_env(env)
    except TeamsConfigError as exc:
        raise ConfigError(f"Teams: {exc}") from None
    if settings is None:
        return None
    from adapters.teams.adapter import TeamsAdapter

    return TeamsAdapter(core, settings)
