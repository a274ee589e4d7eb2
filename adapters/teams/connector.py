"""The Bot Connector transport: the SDK's ConnectorClient, sending through our aiohttp client.

The SDK's ConnectorClient keeps doing what it is good at (the REST paths, (de)serialising
activities); its HTTP goes through `AiohttpSender`, which adds the cached bearer token and
retries 429/5xx (see `http`). `AiohttpConnectorFactory` is handed to CloudAdapter for every turn
and every proactive message, so replies, card updates, new 1:1 chats and the daily posts all
share one token cache and one connection pool.
"""

from __future__ import annotations

from typing import Any

from botframework.connector import AsyncBfPipeline
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ConnectorFactory
from msrest.pipeline import AsyncHTTPSender, Request, Response, SansIOHTTPPolicy
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse
from multidict import CIMultiDict

from adapters.teams.http import HttpClient
from adapters.teams.tokens import TokenSource


class _NoCredentials(SansIOHTTPPolicy):  # type: ignore[misc]
    """The pipeline needs a credentials object; the token is added by the sender instead."""


class _BufferedResponse(AsyncClientResponse):  # type: ignore[misc]
    def __init__(self, request: ClientRequest, status: int, headers: dict[str, str],
                 body: bytes) -> None:
        super().__init__(request, None)
        self.internal_response = self  # what msrest's errors expose as `.response`
        self.status_code = status
        self.headers = CIMultiDict(headers)
        self.reason = ""
        self._body = body

    def body(self) -> bytes:
        return self._body

    def stream_download(self, chunk_size: Any = None, callback: Any = None) -> Any:
        raise NotImplementedError("connector answers are buffered")


class AiohttpSender(AsyncHTTPSender):  # type: ignore[misc]
    """msrest's last pipeline step, done with aiohttp, a bearer token and retries."""

    def __init__(self, http: HttpClient, token: TokenSource | None) -> None:
        self.http = http
        self.token = token

    async def __aenter__(self) -> AiohttpSender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        return None

    def build_context(self) -> Any:
        return None

    async def send(self, request: Request, **config: Any) -> Response:
        http_request: ClientRequest = request.http_request
        headers = {k: v for k, v in http_request.headers.items()
                   if k.lower() not in ("authorization", "content-length")}
        answer = await self.http.request(http_request.method, http_request.url, headers=headers,
                                         data=http_request.data, token=self.token)
        return Response(request, _BufferedResponse(http_request, answer.status,
                                                   dict(answer.headers), answer.body))


class AiohttpConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    """Connector clients for any service URL, all sending through one HttpClient."""

    def __init__(self, http: HttpClient, token: TokenSource | None) -> None:
        self.http = http
        self.token = token

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        return self.client(service_url)

    def client(self, service_url: str) -> ConnectorClient:
        client = ConnectorClient(_NoCredentials(), base_url=service_url,
                                 pipeline_type=AsyncBfPipeline,
                                 sender=AiohttpSender(self.http, self.token))
        return client
