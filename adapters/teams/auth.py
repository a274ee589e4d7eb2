"""Inbound authentication: every request to /api/messages must carry a Bot Framework token.

ConfigurationBotFrameworkAuthentication does the checks (issuer, signature against the OpenID
metadata's keys, audience = our app id, the serviceurl claim, endorsements). Around it we fix
three things the SDK gets wrong for a server:

- failures it raises as something other than PermissionError (a malformed or expired token, a
  key id that is not published) would become 500s; `authenticate` turns every one into
  `AuthFailed` (-> 401);
- it fetches the OpenID metadata and keys with blocking `requests` calls on the event loop; we
  refresh them in a worker thread first, so the SDK always finds them fresh in its cache;
- its connector factory builds a new MSAL app per turn; ours (see `connector`) shares one cached
  token and one connection pool.

In local mode (no app id) requests without a token are accepted as anonymous.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import jwt
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    ClaimsIdentity,
    ConnectorFactory,
)
from botframework.connector.auth.emulator_validation import EmulatorValidation
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

from adapters.teams.settings import TeamsSettings

log = logging.getLogger(__name__)

EMULATOR_ISSUERS = frozenset(EmulatorValidation.TO_BOT_FROM_EMULATOR_TOKEN_VALIDATION_PARAMETERS.issuer)
KEY_FETCH_TIMEOUT = 10.0  # the SDK's fetch has no timeout; we stop waiting for it after this


class AuthFailed(Exception):
    """The request is not from the Bot Framework for this bot (-> 401)."""


class AuthUnavailable(Exception):
    """The signing keys could not be fetched, so nothing can be checked now (-> 503)."""


def sdk_configuration(settings: TeamsSettings) -> Any:
    """The configuration object ConfigurationBotFrameworkAuthentication reads (SDK names)."""
    return SimpleNamespace(
        APP_ID=settings.app_id or None,
        APP_PASSWORD=settings.app_password or None,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id or None,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=settings.authority,
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=settings.oauth_scope,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=settings.token_issuer,
        OAUTH_URL=settings.token_issuer,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url,
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=settings.emulator_openid_metadata_url,
        CALLER_ID="urn:botframework:azure",
        VALIDATE_AUTHORITY=True,
    )


class TeamsAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """The SDK's configuration-driven authentication, with our connector factory."""

    def __init__(self, settings: TeamsSettings, connectors: ConnectorFactory) -> None:
        super().__init__(sdk_configuration(settings))
        self.settings = settings
        self.connectors = connectors
        self._refresh_lock = asyncio.Lock()

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self.connectors

    async def authenticate_request(self, activity: Activity,
                                   auth_header: str) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        result.connector_factory = self.connectors
        return result

    async def authenticate(self, activity: Activity,
                           auth_header: str | None) -> AuthenticateRequestResult:
        """Check one request; AuthFailed (401) or AuthUnavailable (503) when it cannot pass."""
        header = (auth_header or "").strip() or None
        if header is None and not self.settings.local_mode:
            raise AuthFailed("no Authorization header")
        if header is not None:
            await self._warm_keys(header)
        try:
            return await self.authenticate_request(activity, header)  # type: ignore[arg-type]
        except AuthUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - PermissionError, jwt errors, IndexError...
            raise AuthFailed(f"{type(exc).__name__}: {exc}") from None

    async def _warm_keys(self, header: str) -> None:
        """Make sure the SDK finds fresh signing keys in its cache, fetching them off-loop."""
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            raise AuthFailed("not a Bearer token")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise AuthFailed(f"malformed token: {exc}") from None
        if issuer == self.settings.token_issuer:
            url = self.settings.openid_metadata_url
        elif issuer in EMULATOR_ISSUERS:
            url = self.settings.emulator_openid_metadata_url
        else:
            return  # an issuer the SDK rejects before it looks for keys
        metadata = JwtTokenExtractor.get_open_id_metadata(url)
        now = datetime.now()
        known = {key.get("kid") for key in metadata.keys or []}
        stale = metadata.last_updated < now - timedelta(days=1)
        unknown_kid = kid not in known and metadata.last_updated < now - timedelta(hours=1)
        if not (stale or unknown_kid):
            return
        async with self._refresh_lock:
            if metadata.last_updated >= datetime.now() - timedelta(minutes=1):
                return  # refreshed by a concurrent request
            try:
                await asyncio.wait_for(asyncio.to_thread(_refresh_blocking, metadata),
                                       KEY_FETCH_TIMEOUT)
            except Exception as exc:  # noqa: BLE001
                if metadata.keys:
                    log.warning("could not refresh Bot Framework signing keys (%s); using the "
                                "cached ones", type(exc).__name__)
                    metadata.last_updated = datetime.now() - timedelta(hours=23)
                    return
                log.error("could not fetch Bot Framework signing keys from %s: %s", url,
                          type(exc).__name__)
                raise AuthUnavailable(str(exc)) from None


def _refresh_blocking(metadata: Any) -> None:
    """Run the SDK's (blocking, requests-based) key refresh in this worker thread."""
    asyncio.run(metadata._refresh())
