"""One aiohttp client for every outbound Teams call, with retries on 429 and 5xx.

Answers 429 and 5xx (and dropped connections) are retried with exponential backoff and jitter,
honouring `Retry-After` up to a cap; a 401 on a call that carried a bearer token drops the cached
token and tries once more with a fresh one. Started adapters share one connection pool; before
`start()` (e.g. `aws-quiz daily run-due`) each request opens and closes its own session.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from multidict import CIMultiDict

if TYPE_CHECKING:
    from adapters.teams.tokens import TokenSource

log = logging.getLogger(__name__)

USER_AGENT = "aws-quiz (Teams adapter; botbuilder-python)"

# Set while sending something that must reach Teams at most once (the daily post and reveal):
# only answers that prove the request was not processed are retried then (429, a connection
# that could not be opened); a timeout, a dropped connection or a 5xx is not, since the post
# may already be in the channel.
AT_MOST_ONCE: contextvars.ContextVar[bool] = contextvars.ContextVar("teams_at_most_once",
                                                                   default=False)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry answers that say "later" (429) or "broken" (5xx)."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0

    def should_retry(self, status: int) -> bool:
        return status == 429 or status >= 500

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


@dataclass
class HttpResponse:
    """A buffered answer."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json_or_none(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8-sig")) if self.body else None
        except ValueError:
            return None


class HttpClient:
    """aiohttp with retries, bearer tokens and a shared pool once started."""

    def __init__(self, retry: RetryPolicy | None = None, timeout: float = 20.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.retry = retry or RetryPolicy()
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout,
                                                  headers={"User-Agent": USER_AGENT})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def started(self) -> bool:
        return self._session is not None

    @contextlib.asynccontextmanager
    async def _session_for_call(self) -> AsyncIterator[aiohttp.ClientSession]:
        if self._session is not None:
            yield self._session
            return
        async with aiohttp.ClientSession(timeout=self.timeout,
                                         headers={"User-Agent": USER_AGENT}) as session:
            yield session

    async def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                      data: bytes | str | None = None, json_body: Any = None,
                      form: Mapping[str, str] | None = None, token: TokenSource | None = None,
                      retry: RetryPolicy | None = None) -> HttpResponse:
        """Send one request, retrying as the policy says; the last answer is returned as is."""
        policy = retry or self.retry
        sent_headers = dict(headers or {})
        body: Any = data
        if json_body is not None:
            body = json.dumps(json_body)
            sent_headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif form is not None:
            body = aiohttp.FormData(dict(form))
        refreshed = False
        attempt = 0
        async with self._session_for_call() as session:
            while True:
                if token is not None:
                    sent_headers["Authorization"] = f"Bearer {await token.token()}"
                try:
                    async with session.request(method, url, data=body,
                                               headers=sent_headers) as answer:
                        response = HttpResponse(answer.status, CIMultiDict(answer.headers),
                                                await answer.read())
                except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                    unsent = isinstance(exc, aiohttp.ClientConnectorError)
                    if attempt + 1 >= policy.attempts or (AT_MOST_ONCE.get() and not unsent):
                        raise
                    wait = policy.delay(attempt)
                    log.warning("%s %s failed (%s); retrying in %.1f s", method,
                                _safe_url(url), type(exc).__name__, wait)
                    attempt += 1
                    await self.sleep(wait)
                    continue
                if response.status == 401 and token is not None and not refreshed:
                    refreshed = True
                    token.invalidate()
                    continue
                again = policy.should_retry(response.status) and (
                    response.status == 429 or not AT_MOST_ONCE.get())
                if again and attempt + 1 < policy.attempts:
                    wait = policy.delay(attempt, parse_retry_after(
                        response.headers.get("Retry-After")))
                    log.warning("%s %s answered %d; retrying in %.1f s", method, _safe_url(url),
                                response.status, wait)
                    attempt += 1
                    await self.sleep(wait)
                    if form is not None:
                        body = aiohttp.FormData(dict(form))  # a FormData is consumed once sent
                    continue
                return response


def _safe_url(url: str) -> str:
    """The URL without its query string (nothing secret is ever in it, but keep logs short)."""
    return url.split("?", 1)[0]
