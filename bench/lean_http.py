"""A lean HTTP/1.1 client and a lean fake of Slack's side, for throughput runs on a 2-core box.

On this machine the load generator and the fake Slack API share two cores with the servers
under test; written on aiohttp they cost about 4 ms of CPU per command, which is a third of
what a server spends and hides what a second worker adds. These speak the same protocol
(HTTP/1.1 with keep-alive and Content-Length bodies; `{"ok": true, ...}` JSON answers; 200 "ok"
at response URLs) with a fraction of the work. The functional scenarios keep using the full
fake in tests/slack_fakes.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, deque
from urllib.parse import parse_qsl


async def _read_message(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    body = await reader.readexactly(length) if length else b""
    return lines[0], headers, body


class LeanSlack:
    """Slack's Web API (auth.test, users.info, the rest `{"ok": true}`) and response URLs."""

    def __init__(self) -> None:
        self.answered_at: dict[int, float] = {}
        self.answer_counts: Counter[int] = Counter()
        self.api_calls: Counter[str] = Counter()
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> LeanSlack:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0,
                                                 backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/response/{n}"

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request, _, body = await _read_message(reader)
                path = request.split(" ")[1]
                if path.startswith("/response/"):
                    n = int(path.rsplit("/", 1)[1])
                    self.answered_at.setdefault(n, time.monotonic())
                    self.answer_counts[n] += 1
                    payload, kind = b"ok", b"text/plain"
                else:
                    method = path.split("?")[0].rsplit("/", 1)[1]
                    self.api_calls[method] += 1
                    payload, kind = json.dumps(self._api(method, body)).encode(), \
                        b"application/json"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + kind +
                             b"\r\nContent-Length: " + str(len(payload)).encode() +
                             b"\r\n\r\n" + payload)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
                asyncio.CancelledError):
            pass  # the client went away, or the fake is closing
        finally:
            writer.close()

    @staticmethod
    def _api(method: str, body: bytes) -> dict[str, object]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1",
                    "team": "Test", "url": "https://test.slack.com/"}
        if method == "users.info":
            params = dict(parse_qsl(body.decode()))
            user = params.get("user", "U0")
            return {"ok": True, "user": {"id": user, "name": user.lower(), "is_admin": False,
                                         "profile": {"display_name": f"{user}-name"}}}
        return {"ok": True}


class LeanClient:
    """POSTs over a pool of keep-alive connections to one host:port (opened as needed)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = deque()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        """The status, or -1 when the connection could not be opened (not listening)."""
        for _ in range(2):
            if self.idle:
                reader, writer = self.idle.popleft()
                fresh = False
            else:
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    return -1
                fresh = True
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{head}"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            try:
                status_line, answer_headers, _ = await _read_message(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                if fresh:
                    return -2  # dropped before an answer: not acknowledged
                continue  # a stale keep-alive connection: try a new one
            if answer_headers.get("connection", "").lower() != "close":
                self.idle.append((reader, writer))
            else:
                writer.close()
            return int(status_line.split(" ")[1])
        return -2

    def close(self) -> None:
        while self.idle:
            self.idle.popleft()[1].close()
