"""Build the Slack adapter from the environment: single workspace, OAuth, HTTP or Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.errors import ConfigError
from adapters.slack.adapter import SlackAdapter
from bot.app import Core
from bot.store.eventstore import EventStore
from bot.store.workstore import WorkStore

log = logging.getLogger(__name__)

# Bolt reads SLACK_BOT_TOKEN from the environment itself and warns that the client we give it
# (with that token, our base URL and retry handlers) wins over it: that is what we want.
_CLIENT_WINS = warning_client_prioritized_and_token_skipped()


class _QuietClientWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _CLIENT_WINS


_bolt_log = logging.getLogger("slack_bolt.AsyncApp")
if not any(isinstance(f, _QuietClientWarning) for f in _bolt_log.filters):
    _bolt_log.addFilter(_QuietClientWarning())

BOT_SCOPES = ["commands", "chat:write", "channels:history", "groups:history", "im:history",
              "im:write", "users:read"]
DEFAULT_API_URL = "https://slack.com/api/"


def _client(api_url: str, token: str | None = None) -> AsyncWebClient:
    base = api_url if api_url.endswith("/") else api_url + "/"
    return AsyncWebClient(token=token, base_url=base,
                          retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)])


def build_slack_adapter(core: Core, env: Mapping[str, str]) -> SlackAdapter | None:
    """None when no Slack credentials are set; ConfigError when they are unsafe or incomplete."""
    bot_token = env.get("SLACK_BOT_TOKEN") or None
    signing_secret = env.get("SLACK_SIGNING_SECRET") or None
    app_token = env.get("SLACK_APP_TOKEN") or None
    client_id = env.get("SLACK_CLIENT_ID") or None
    client_secret = env.get("SLACK_CLIENT_SECRET") or None
    api_url = env.get("SLACK_API_URL") or DEFAULT_API_URL
    if not (bot_token or client_id):
        if app_token or signing_secret:
            raise ConfigError("Slack: set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                              "SLACK_CLIENT_SECRET (OAuth install) as well.")
        return None
    if core.db is None:
        raise ConfigError("Slack needs the database (DATABASE_URL).")
    if app_token is None and signing_secret is None:
        raise ConfigError("Slack HTTP mode needs SLACK_SIGNING_SECRET to verify that requests come "
                          "from Slack; set it (Basic Information > App Credentials), or use "
                          "Socket Mode with SLACK_APP_TOKEN.")
    if client_id and not client_secret:
        raise ConfigError("Slack OAuth install needs SLACK_CLIENT_SECRET with SLACK_CLIENT_ID.")

    installation_store = None
    if client_id and client_secret:
        if signing_secret is None:
            raise ConfigError("Slack OAuth install needs SLACK_SIGNING_SECRET.")
        installation_store = AsyncSQLAlchemyInstallationStore(client_id=client_id,
                                                              engine=core.db.engine)
        state_store = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600,
                                                     engine=core.db.engine)
        bolt = AsyncApp(
            signing_secret=signing_secret,
            client=_client(api_url),
            oauth_settings=AsyncOAuthSettings(
                client_id=client_id, client_secret=client_secret, scopes=BOT_SCOPES,
                installation_store=installation_store, state_store=state_store,
                install_path="/slack/install", redirect_uri_path="/slack/oauth_redirect"),
            process_before_response=False,
        )
        mode = "multi-workspace OAuth"
    else:
        bolt = AsyncApp(signing_secret=signing_secret or "",
                        client=_client(api_url, bot_token), process_before_response=False,
                        request_verification_enabled=signing_secret is not None)
        mode = "single workspace"
    transport = "Socket Mode" if app_token else "HTTP at /slack/events"
    log.debug("Slack enabled: %s, %s", mode, transport)  # `serve` says it, with Teams
    work = WorkStore(core.db, lease=timedelta(seconds=core.settings.work_lease_seconds))
    return SlackAdapter(core, bolt, EventStore(core.db), installation_store=installation_store,
                        bot_token=bot_token, app_token=app_token,
                        http_enabled=signing_secret is not None,
                        signing_secret=signing_secret, work=work)
