"""Outbound calls to Teams: the SDK's connector client and MSAL tokens, plus retries.

The SDK builds a `TeamsConnectorClient` per turn and gets its token from `MsalAuth`, which keeps
one MSAL application (and its token cache) per configuration and runs MSAL off the event loop;
every turn and every proactive post reuses the cached token until MSAL refreshes it. What the
SDK does not do, and what stays here, each with the test that shows it:

- retry 429 and 5xx answers and dropped connections with backoff and jitter, honouring
  Retry-After (test_429_and_5xx_are_retried_with_backoff_honouring_retry_after,
  test_after_the_last_attempt_the_error_surfaces); while `AT_MOST_ONCE` is set (the daily post)
  only answers that prove nothing was posted are retried
  (test_a_daily_post_with_an_unknown_outcome_is_never_sent_twice_and_admins_are_told);
- a 401 drops MSAL's cached token and tries once more with a fresh one: `MsalAuth` ignores its
  `force_refresh` argument (test_a_revoked_token_is_dropped_and_fetched_again);
- MSAL's instance discovery is off: `MsalAuth` would ask login.microsoftonline.com to vouch for
  any other token authority (`TO_CHANNEL_FROM_BOT_LOGIN_URL`), so the loopback token endpoint
  of test_teams_auth.py could never be used;
- the MSAL application is built in a worker thread: `MsalAuth` builds it on the event loop, and
  its constructor fetches the authority's OpenID configuration with a blocking HTTP call (the
  whole server stalls; with the fake identity platform on the same loop,
  test_a_valid_token_is_accepted_and_replies_carry_our_cached_token never finishes).
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    ClaimsIdentity,
    ConnectionManager,
    RestChannelServiceClientFactory,
    TurnContext,
)
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient
from msal import ConfidentialClientApplication

log = logging.getLogger(__name__)

# Set while sending something that must reach Teams at most once (the daily post and reveal):
# only answers that prove the request was not processed are retried then (429, a connection
# that could not be opened); a timeout, a dropped connection or a 5xx is not.
AT_MOST_ONCE: contextvars.ContextVar[bool] = contextvars.ContextVar("teams_at_most_once",
                                                                   default=False)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry answers that say "later" (429) or "broken" (5xx)."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0
    timeout: float = 20.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 0)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = min(self.base_delay * (2 ** attempt), self.max_delay)
        return backoff * random.uniform(0.5, 1.0)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now(), 0.0)


class TeamsMsalAuth(MsalAuth):
    """MsalAuth without instance discovery, and able to drop its cached tokens."""

    def __init__(self, configuration: AgentAuthConfiguration) -> None:
        super().__init__(configuration)
        self._apps: list[ConfidentialClientApplication] = []

    def _create_client_application(  # type: ignore[override]
            self, tenant_id: str | None = None) -> ConfidentialClientApplication:
        config = self.configuration
        app = ConfidentialClientApplication(
            client_id=config.CLIENT_ID, client_credential=config.CLIENT_SECRET,
            authority=MsalAuth._resolve_authority(config, tenant_id), instance_discovery=False)
        self._apps.append(app)
        return app

    async def get_access_token(self, resource_url: str, scopes: list[str],
                               force_refresh: bool = False) -> str:
        if not self._apps:
            await asyncio.to_thread(self._get_client)
        return await super().get_access_token(resource_url, scopes, force_refresh)

    def forget_tokens(self) -> None:
        """The next token is fetched anew (the API refused the cached one)."""
        for app in self._apps:
            app.remove_tokens_for_client()


def retrying(policy: RetryPolicy,
             refresh: Callable[[], Awaitable[str]] | None) -> aiohttp.ClientMiddlewareType:
    """An aiohttp client middleware: retries as `policy` says, one fresh token after a 401."""

    async def middleware(request: aiohttp.ClientRequest,
                         handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
        refreshed = False
        attempt = 0
        while True:
            try:
                response = await handler(request)
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                unsent = isinstance(exc, aiohttp.ClientConnectorError)
                if attempt + 1 >= policy.attempts or (AT_MOST_ONCE.get() and not unsent):
                    raise
                wait = policy.delay(attempt)
                log.warning("%s %s failed (%s); retrying in %.1f s", request.method,
                            request.url.path, type(exc).__name__, wait)
                attempt += 1
                await policy.sleep(wait)
                continue
            status = response.status
            if status == 401 and refresh is not None and not refreshed:
                refreshed = True
                response.release()
                request.headers["Authorization"] = f"Bearer {await refresh()}"
                continue
            again = status == 429 or (status >= 500 and not AT_MOST_ONCE.get())
            if not again or attempt + 1 >= policy.attempts:
                return response
            wait = policy.delay(attempt, parse_retry_after(response.headers.get("Retry-After")))
            log.warning("%s %s answered %d; retrying in %.1f s", request.method,
                        request.url.path, status, wait)
            response.release()
            attempt += 1
            await policy.sleep(wait)

    return middleware


class TeamsClientFactory(RestChannelServiceClientFactory):
    """The SDK's client factory; connector clients get our retrying session.

    In local mode (no app id, `connections` None) nothing has a token: every client is anonymous.
    """

    def __init__(self, connections: ConnectionManager | None, policy: RetryPolicy) -> None:
        super().__init__(connections)  # type: ignore[arg-type]
        self.connections = connections
        self.policy = policy

    async def create_connector_client(  # type: ignore[override]
            self, context: TurnContext | None, claims_identity: ClaimsIdentity,
            service_url: str, audience: str, scopes: list[str] | None = None,
            use_anonymous: bool = False) -> TeamsConnectorClient:
        if not service_url:
            raise TypeError("create_connector_client: service_url can't be empty")
        provider: AccessTokenProviderBase = self._ANONYMOUS_TOKEN_PROVIDER
        if self.connections is not None and not use_anonymous:
            provider = self.connections.get_token_provider(claims_identity, service_url)
        wanted = scopes or claims_identity.get_token_scope()
        token = await provider.get_access_token(audience, wanted)
        refresh = None
        if isinstance(provider, TeamsMsalAuth):
            msal = provider

            async def refresh() -> str:
                msal.forget_tokens()
                return await msal.get_access_token(audience, wanted)

        endpoint = service_url if service_url.endswith("/") else service_url + "/"
        session = aiohttp.ClientSession(
            base_url=endpoint, timeout=aiohttp.ClientTimeout(total=self.policy.timeout),
            middlewares=(retrying(self.policy, refresh),))
        return TeamsConnectorClient(endpoint=service_url, token=token, session=session)

    async def create_user_token_client(  # type: ignore[override]
            self, context: TurnContext, claims_identity: ClaimsIdentity,
            use_anonymous: bool = False) -> UserTokenClient:
        return await super().create_user_token_client(
            context, claims_identity, use_anonymous or self.connections is None)


def connection_manager(configuration: AgentAuthConfiguration) -> ConnectionManager:
    """The SDK's connections, our app registration as SERVICE_CONNECTION."""
    return ConnectionManager(TeamsMsalAuth, {"SERVICE_CONNECTION": configuration})
