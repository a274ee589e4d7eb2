"""Build the Teams adapter from the environment (see `settings` for what each variable does)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from adapters.errors import ConfigError
from adapters.platform import PlatformAdapter
from adapters.teams.settings import TeamsConfigError, TeamsSettings
from bot.app import Core


def is_loopback_host(host: str) -> bool:
    """True when a listening address only takes connections from this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def build_teams_adapter(core: Core, env: Mapping[str, str],
                        bind_host: str | None = None) -> PlatformAdapter | None:
    """None when Teams is not asked for; ConfigError when the set-up is unsafe or incomplete.

    `bind_host` is the address `serve` listens on (None when nothing listens, e.g. `daily
    run-due`): local mode takes requests without a token, so it runs only on a loopback address.
    """
    try:
        settings = TeamsSettings.from_env(env)
    except TeamsConfigError as exc:
        raise ConfigError(f"Teams: {exc}") from None
    if settings is None:
        return None
    if settings.local_mode and bind_host is not None and not is_loopback_host(bind_host):
        raise ConfigError(
            f"Teams: local mode (TEAMS_LOCAL=true) accepts requests without a Bot Framework "
            f"token, so it only runs while serve listens on a loopback address; this one would "
            f"listen on {bind_host or 'every interface'}. Use `--host 127.0.0.1`, or set "
            f"MicrosoftAppId and MicrosoftAppPassword (docs/teams.md).")
    from adapters.teams.adapter import TeamsAdapter

    return TeamsAdapter(core, settings)
