"""Outbound access tokens (OAuth 2.0 client credentials), cached, refreshed on the event loop.

The SDK's own credentials call MSAL synchronously (requests) on the event loop and build a new
MSAL application, with an empty cache, for every connector client. We fetch tokens with aiohttp
instead: one fetch at a time per scope (concurrent callers wait for it), reused until shortly
before it expires, refreshed in the background once it is close to expiry. The client secret
goes only into the token request body; it is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from adapters.teams.http import HttpClient, RetryPolicy

log = logging.getLogger(__name__)

REFRESH_MARGIN = 300.0  # refresh in the background when less than five minutes are left
MIN_LIFETIME = 60.0


class TokenError(Exception):
    """The identity platform refused to issue a token (wrong secret, unknown app, ...)."""


class TokenSource(Protocol):
    """Something that returns a bearer token for outbound calls."""

    async def token(self) -> str: ...

    def invalidate(self) -> None: ...


@dataclass(frozen=True)
class ClientCredentials:
    """An app registration's id and secret, and the endpoint and scope to ask for."""

    token_url: str
    client_id: str
    client_secret: str
    scope: str

    def __repr__(self) -> str:
        return f"ClientCredentials({self.token_url!r}, {self.client_id!r}, scope={self.scope!r})"


class CachedToken:
    """A token from `credentials`, fetched once and shared until it is about to expire."""

    def __init__(self, http: HttpClient, credentials: ClientCredentials,
                 clock: Callable[[], float] = time.monotonic,
                 retry: RetryPolicy | None = None) -> None:
        self.http = http
        self.credentials = credentials
        self.clock = clock
        self.retry = retry
        self.fetches = 0
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None

    async def token(self) -> str:
        now = self.clock()
        if self._token is not None and now < self._expires_at:
            if self._expires_at - now < REFRESH_MARGIN:
                self._refresh_in_background()
            return self._token
        async with self._lock:
            if self._token is not None and self.clock() < self._expires_at:
                return self._token  # another caller fetched it while we waited
            await self._fetch()
        assert self._token is not None
        return self._token

    def invalidate(self) -> None:
        """Forget the token (the API said 401); the next call fetches a new one."""
        self._token = None
        self._expires_at = 0.0

    def _refresh_in_background(self) -> None:
        if self._background is not None and not self._background.done():
            return
        if self._lock.locked():
            return

        async def refresh() -> None:
            async with self._lock:
                if self._expires_at - self.clock() >= REFRESH_MARGIN:
                    return
                try:
                    await self._fetch()
                except Exception:  # noqa: BLE001 - the current token still works for a while
                    log.warning("background token refresh failed; will retry on next use",
                                exc_info=True)

        self._background = asyncio.create_task(refresh())

    async def _fetch(self) -> None:
        form = {"grant_type": "client_credentials", "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret, "scope": self.credentials.scope}
        self.fetches += 1
        response = await self.http.request("POST", self.credentials.token_url, form=form,
                                           retry=self.retry)
        payload = response.json_or_none()
        if response.status != 200 or not isinstance(payload, dict) \
                or not payload.get("access_token"):
            error = payload.get("error", "") if isinstance(payload, dict) else ""
            description = (payload.get("error_description", "") if isinstance(payload, dict)
                           else "")
            raise TokenError(f"token request for {self.credentials.scope} failed: HTTP "
                             f"{response.status} {error} {description[:200]}".strip())
        lifetime = float(payload.get("expires_in") or 3600)
        self._token = str(payload["access_token"])
        usable = lifetime - 30.0 if lifetime > 2 * MIN_LIFETIME else lifetime / 2
        self._expires_at = self.clock() + usable
        log.debug("fetched a token for %s, valid %.0f s", self.credentials.scope, lifetime)
