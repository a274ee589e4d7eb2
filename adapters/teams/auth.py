"""Inbound authentication: the Agents SDK's JwtTokenValidator, with 401 and 503 told apart.

The SDK's aiohttp middleware answers every failure with 401, including signing keys that
cannot be fetched; we answer those with 503 so the Bot Framework retries instead of a request
being refused for good (test_unreachable_signing_keys_give_503_not_a_pass). The validator
itself (signature against the Bot Framework's keys, audience = our app id, expiry, issuer
allow-list with VALIDATE_ISSUER) is the SDK's, run off the event loop by the SDK.

Two small additions, each named by the test that needs it:
- a token whose (unverified) issuer is not one we accept is refused before any key is fetched,
  so that a forged issuer cannot send the SDK to fetch keys elsewhere
  (test_bad_tokens_get_401_and_nothing_is_sent[wrong issuer]);
- `TEAMS_SIGNING_KEYS_URL` replaces the Bot Framework's JWKS address, which the SDK hard-codes
  (the fake Bot Framework of test_teams_auth.py).
"""

from __future__ import annotations

import logging

import jwt
from microsoft_agents.hosting.core import ClaimsIdentity, JwtTokenValidator
from microsoft_agents.hosting.core.authorization._entra_issuers import (
    well_known_first_party_issuers,
)
from microsoft_agents.hosting.core.authorization.authentication_constants import (
    AuthenticationConstants,
)
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import (
    _JwkClientCacheEntry,
    _JwkClientManager,
)

from adapters.teams.settings import TeamsSettings

log = logging.getLogger(__name__)


class AuthFailed(Exception):
    """The request is not from the Bot Framework for this bot (-> 401)."""


class AuthUnavailable(Exception):
    """The signing keys could not be fetched, so nothing can be checked now (-> 503)."""


class _SigningKeys(_JwkClientManager):
    """The SDK's JWKS client cache, with the Bot Framework's key address replaced."""

    def __init__(self, keys_url: str) -> None:
        super().__init__()
        self.keys_url = keys_url

    def _get_jwk_client(self, jwks_uri: str) -> _JwkClientCacheEntry:
        if jwks_uri == AuthenticationConstants.PUBLIC_ABS_JWKS_URL:
            jwks_uri = self.keys_url
        return super()._get_jwk_client(jwks_uri)


class TokenCheck:
    """`claims(header)`: who sent a request, or AuthFailed / AuthUnavailable."""

    def __init__(self, settings: TeamsSettings) -> None:
        self.settings = settings
        self.configuration = settings.agent_auth_configuration()
        self.validator = JwtTokenValidator(self.configuration)
        if settings.signing_keys_url:
            self.validator._jwk_client_manager = _SigningKeys(settings.signing_keys_url)
        # the same list the SDK checks after the signature (VALIDATE_ISSUER)
        accepted = self.configuration.ISSUERS + well_known_first_party_issuers(
            self.configuration.AUTHORITY)
        self.issuers = {issuer.lower() for issuer in accepted}

    async def claims(self, header: str | None) -> ClaimsIdentity:
        header = (header or "").strip()
        if not header:
            if self.settings.local_mode:
                return self.validator.get_anonymous_claims()
            raise AuthFailed("no Authorization header")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
            raise AuthFailed("not a Bearer token")
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise AuthFailed("malformed token") from None
        if not isinstance(issuer, str) or issuer.lower() not in self.issuers:
            raise AuthFailed("an issuer we do not accept")
        try:
            return await self.validator.validate_token(token)
        except jwt.PyJWKClientConnectionError:
            log.error("could not fetch the Bot Framework's signing keys")
            raise AuthUnavailable("signing keys unavailable") from None
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            raise AuthFailed(type(exc).__name__) from None
