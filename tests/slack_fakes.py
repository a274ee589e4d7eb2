"""A fake of Slack's side on 127.0.0.1: the Web API, response_urls and a Socket Mode websocket.

It speaks the real protocol (form or JSON bodies in, `{"ok": ...}` JSON out, 429 with
Retry-After) and records every call, so tests assert what Slack would have received. It keeps
the messages it accepted per channel, with their message metadata, and answers
`conversations.history` and `conversations.replies` from them the way Slack does (newest first
or thread order, `oldest`/`latest`, `limit` and cursors, metadata only with
`include_all_metadata`). It can be slow (`latency`) and it can accept a post and then fail the
answer (`ambiguous`: a 500, or an answer later than the client waits), which is how a post's
outcome becomes unknown. Requests to our app are signed the way Slack signs them.

Run as a program (`python -m tests.slack_fakes ...`, see `main` and docs/slack.md) it is a
stand-in for Slack that a person drives from a terminal: `api` runs the fake, `command` types a
slash command, `press` presses a button on a message the bot sent, `dm` writes to the bot in a
direct message. The `api` process keeps the state: every message the bot sent (`sent`), which
the other commands read from its `GET /_fake/sent`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from tests.loopback import LoopbackServer

SENDING = ("chat.postMessage", "chat.postEphemeral", "chat.update")  # methods that show a message


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeSlack(LoopbackServer):
    """The Web API at `api_url`, response URLs under `/response/<n>`, Socket Mode at `/ws`."""

    admins: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    throttle: dict[str, int] = field(default_factory=dict)  # method -> number of 429s to send
    not_in: set[str] = field(default_factory=set)  # channels the bot was never invited to
    latency: float = 0.0  # seconds before every Web API and response_url answer
    # chat.postMessage outcomes to come: "500" (posted, then a 500), "slow" (posted, answered
    # after slow_seconds), "lost" (a 500, nothing posted)
    ambiguous: list[str] = field(default_factory=list)
    slow_seconds: float = 30.0
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> msgs
    clock: Any = time.time  # message ts come from this clock
    server: TestServer | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    # every message the bot sent, in order: Web API posts/updates and response_url answers
    sent: list[dict[str, Any]] = field(default_factory=list)
    _ts: int = 1000
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{n}", self._response)
        app.router.add_get("/ws", self._socket)
        await self.serve(app)
        return self

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        await super().close()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, n: int = 1) -> str:
        return f"{self.url}/response/{n}"

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        """Wait until predicate() is true (bolt works after acknowledging)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls={[c.method for c in self.calls]} "
                                     f"responses={len(self.responses)}")
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), 0.05)
            except TimeoutError:
                pass

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.content_type == "application/json":
            params.update(await request.json())
        elif request.method == "POST":
            params.update({k: v for k, v in (await request.post()).items()})
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params, dict(request.headers)))
        self._event.set()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.throttle.get(method, 0) > 0:
            self.throttle[method] -= 1
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": "1"})
        if method == "chat.postMessage" and self.ambiguous[:1] == ["lost"]:
            self.ambiguous.pop(0)  # a 500 for a message that was never posted
            return web.Response(status=500, text="<html>internal error</html>",
                                content_type="text/html")
        answer = self._answer(method, params)
        if method in SENDING and answer.get("ok"):
            self._sent(method, params, answer)
        if method == "chat.postMessage" and answer.get("ok") and self.ambiguous:
            mode = self.ambiguous.pop(0)  # the message is posted; its answer goes wrong
            if mode == "500":
                return web.Response(status=500, text="<html>internal error</html>",
                                    content_type="text/html")
            await asyncio.sleep(self.slow_seconds)
        return web.json_response(answer)

    def _sent(self, via: str, params: dict[str, Any], answer: dict[str, Any] | None = None
              ) -> None:
        """Keep a message the bot sent, the way a person would see it."""
        found = params.get("blocks") or []
        if isinstance(found, str):
            found = json.loads(found)
        self.sent.append({
            "n": len(self.sent) + 1, "via": via, "channel": params.get("channel"),
            "ts": (answer or {}).get("ts") or params.get("ts"), "text": params.get("text", ""),
            "blocks": found, "response_type": params.get("response_type"),
            "replace_original": params.get("replace_original"), "user": params.get("user")})

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1",
                    "team": "Test", "url": "https://test.slack.com/"}
        if method == "users.info":
            user = str(params.get("user"))
            return {"ok": True, "user": {"id": user, "name": user.lower(), "is_admin":
                                         user in self.admins, "is_owner": False,
                                         "profile": {"display_name": f"{user}-name"}}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{params.get('users')}"}}
        if method in ("chat.postMessage", "chat.update") and params.get("channel") in self.not_in:
            return {"ok": False, "error": "not_in_channel"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"),
                    "ts": self._store(params)["ts"]}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "conversations.history":
            return self._history(params)
        if method == "conversations.replies":
            return self._replies(params)
        if method == "oauth.v2.access":
            return {"ok": True, "app_id": "A1", "authed_user": {"id": "UINSTALLER"},
                    "scope": "commands,chat:write", "token_type": "bot",
                    "access_token": "xoxb-installed-token", "bot_user_id": "UBOT2",
                    "team": {"id": "T9", "name": "Installed"}, "enterprise": None,
                    "is_enterprise_install": False}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.server.port}/ws"}  # type: ignore[union-attr]
        return {"ok": True}

    # -- messages, as Slack keeps them ----------------------------------------------------------

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{int(self.clock())}.{self._ts % 1_000_000:06d}"

    def _store(self, params: dict[str, Any]) -> dict[str, Any]:
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message: dict[str, Any] = {"type": "message", "user": "UBOT", "bot_id": "BBOT",
                                   "app_id": "A1", "text": params.get("text", ""),
                                   "ts": self._next_ts(), "blocks": params.get("blocks")}
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        if metadata:
            message["metadata"] = metadata
        self.messages.setdefault(str(params.get("channel")), []).append(message)
        return message

    def questions(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages in a channel (what people see as posts)."""
        return [m for m in self.messages.get(channel, []) if "thread_ts" not in m]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.get(channel, []) if m.get("thread_ts") == ts]

    @staticmethod
    def _shown(message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in message.items() if k != "metadata"}
        if str(params.get("include_all_metadata", "")).lower() in ("1", "true") \
                and "metadata" in message:
            shown["metadata"] = message["metadata"]
        return shown

    @staticmethod
    def _page(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        limit = min(max(int(params.get("limit") or 100), 1), 999)
        start = int(params.get("cursor") or "0")
        page = messages[start:start + limit]
        more = start + limit < len(messages)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel in self.not_in:
            return {"ok": False, "error": "not_in_channel"}
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or 1e12)
        top = [m for m in self.messages.get(channel, []) if "thread_ts" not in m
               and oldest < float(m["ts"]) < latest]
        shown = [self._shown(m, params) for m in reversed(top)]  # newest first
        return {**self._page(shown, params), "pin_count": 0}

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        parent = [m for m in self.messages.get(channel, []) if m["ts"] == ts]
        if not parent:
            return {"ok": False, "error": "thread_not_found"}
        shown = [self._shown(m, params) for m in parent + self.thread(channel, ts)]
        return self._page(shown, params)

    async def _response(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        body = await request.json()
        self.responses.append((request.match_info["n"], body))
        self._sent(f"response_url/{request.match_info['n']}", body)
        self._event.set()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
                self._event.set()
        return ws

    async def push_envelope(self, kind: str, payload: dict[str, Any], envelope_id: str) -> None:
        """Send a Socket Mode envelope to the connected app."""
        await self.wait_for(lambda: bool(self.sockets))
        await self.sockets[-1].send_json({"envelope_id": envelope_id, "type": kind,
                                          "payload": payload, "accepts_response_payload":
                                          kind != "events_api"})


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: X-Slack-Request-Timestamp and the v0 HMAC-SHA256 signature."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slash_body(text: str, user: str = "U1", channel: str = "C1", team: str = "T1",
               response_url: str = "") -> str:
    return urlencode({"token": "legacy", "team_id": team, "team_domain": "test",
                      "channel_id": channel, "channel_name": "general" if channel[0] == "C"
                      else "directmessage", "user_id": user, "user_name": user.lower(),
                      "command": "/aws-quiz", "text": text, "api_app_id": "A1",
                      "response_url": response_url, "trigger_id": "1.2.3"})


def action_body(action_id: str, value: str, user: str = "U1", channel: str = "C1",
                team: str = "T1", response_url: str = "", in_view: bool = False) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions", "team": {"id": team, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A1", "token": "legacy", "trigger_id": "1.2.3",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1",
                     "value": value, "action_ts": str(time.time())}],
    }
    if in_view:
        payload["container"] = {"type": "view", "view_id": "V1"}
        payload["view"] = {"id": "V1", "type": "home"}
    else:
        payload["container"] = {"type": "message", "message_ts": "1.1", "channel_id": channel,
                                "is_ephemeral": True}
        payload["channel"] = {"id": channel, "name": "general"}
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], event_id: str, team: str = "T1") -> str:
    return json.dumps({"token": "legacy", "team_id": team, "api_app_id": "A1", "event": event,
                       "type": "event_callback", "event_id": event_id,
                       "event_time": int(time.time())})


# -- a command line, so people can try the Slack adapter without Slack (docs/slack.md) ---------
#
# `api` runs the fake and is the only process with state: every message the bot sent is in its
# `sent` list, served at GET /_fake/sent?since=N. `command`, `press` and `dm` are short-lived:
# each sends one signed request to the app the way Slack would, then reads what the bot sent
# from the fake (response_url answers and Web API posts alike) and prints it.

async def _run_fake(port: int, admins: set[str]) -> None:
    fake = FakeSlack(admins=admins)
    app = web.Application()
    app.router.add_route("*", "/api/{method}", fake._api)
    app.router.add_post("/response/{n}", fake._response)
    app.router.add_get("/ws", fake._socket)

    async def push(request: web.Request) -> web.Response:
        data = await request.json()
        await fake.push_envelope(data["type"], data["payload"], data["envelope_id"])
        return web.json_response({"ok": True})

    async def sent(request: web.Request) -> web.Response:
        since = int(request.query.get("since") or 0)
        return web.json_response({"count": len(fake.sent), "sent": fake.sent[since:]})

    app.router.add_post("/push", push)
    app.router.add_get("/_fake/sent", sent)
    await fake.serve(app, port)
    print(f"fake Slack Web API at {fake.api_url} (set SLACK_API_URL to this)", flush=True)
    seen_calls = seen_responses = 0
    while True:
        await asyncio.sleep(0.2)
        for call in fake.calls[seen_calls:]:
            print(json.dumps({"api": call.method, "params": call.params}, default=str), flush=True)
        for n, body in fake.responses[seen_responses:]:
            print(json.dumps({"response_url": n, "body": body}), flush=True)
        seen_calls, seen_responses = len(fake.calls), len(fake.responses)


def _base(api: str) -> str:
    return api.rsplit("/api", 1)[0]


def _nonce() -> str:
    return str(time.time_ns() // 1000)


def _buttons(message: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(actions block, button) for every button on a message."""
    return [(block, element) for block in message.get("blocks") or []
            if block.get("type") == "actions" for element in block.get("elements", [])
            if element.get("type") == "button"]


def _label(button: dict[str, Any]) -> str:
    return str((button.get("text") or {}).get("text", ""))


def find_button(sent: list[dict[str, Any]], label: str
                ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    """(message, block, button): the newest message with a button labelled `label` (exactly,
    ignoring case, else the label's beginning)."""
    want = label.strip().casefold()
    for message in reversed(sent):
        buttons = _buttons(message)
        for exact in (True, False):
            for block, button in buttons:
                shown = _label(button).casefold()
                if shown == want if exact else shown.startswith(want):
                    return message, block, button
    return None


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def show(message: dict[str, Any]) -> str:
    """A message the bot sent, as a person would read it: text, fields and buttons."""
    via = message["via"]
    where = ("ephemeral" if message.get("response_type") == "ephemeral" else
             "in channel" if message.get("response_type") == "in_channel" else "")
    if message.get("replace_original") in (True, "true"):
        where = "replaces the message pressed"
    if message.get("channel"):
        where = f"to {message['channel']}"
    lines = [f"--- #{message['n']} {via}" + (f" ({where})" if where else "")]
    lines += [f"  {line}" for line in _unescape(str(message.get("text") or "")).splitlines()]
    for block in message.get("blocks") or []:
        for item in block.get("fields", []):
            lines.append("  " + _unescape(item["text"]).replace("\n", ": ", 1))
    labels = [f"[{_label(button)}]" for _, button in _buttons(message)]
    if labels:
        lines.append("  buttons: " + " ".join(labels))
    return "\n".join(lines)


async def _sent(session: Any, api: str, since: int = 0) -> tuple[int, list[dict[str, Any]]]:
    async with session.get(f"{_base(api)}/_fake/sent", params={"since": str(since)}) as resp:
        data = await resp.json()
        return int(data["count"]), list(data["sent"])


async def _print_replies(session: Any, api: str, since: int, wait: float) -> None:
    """Print what the bot sends from `since` on: until a second passes with nothing new, or
    `wait` seconds with nothing at all."""
    deadline = time.monotonic() + wait
    got: list[dict[str, Any]] = []
    changed = time.monotonic()
    while time.monotonic() < deadline:
        _, new = await _sent(session, api, since)
        if len(new) != len(got):
            got, changed = new, time.monotonic()
        elif got and time.monotonic() - changed >= 1.0:
            break
        await asyncio.sleep(0.1)
    for message in got:
        print(show(message), flush=True)
    if not got:
        print(f"(the bot sent nothing within {wait:g}s)", flush=True)


async def _post_signed(session: Any, app_url: str, secret: str, body: str,
                       content_type: str) -> int:
    headers = {"Content-Type": content_type, **sign(secret, body)}
    async with session.post(app_url, data=body, headers=headers) as response:
        print(f"HTTP {response.status} {await response.text()}".rstrip(), flush=True)
        return response.status


async def _send_command(app_url: str, api: str, secret: str, text: str, user: str,
                        wait: float = 15.0) -> int:
    import aiohttp

    body = slash_body(text, user=user, response_url=f"{_base(api)}/response/{_nonce()}")
    async with aiohttp.ClientSession() as session:
        since, _ = await _sent(session, api)
        status = await _post_signed(session, app_url, secret, body,
                                    "application/x-www-form-urlencoded")
        if status == 200:
            await _print_replies(session, api, since, wait)
    return 0


def press_body(message: dict[str, Any], block: dict[str, Any], button: dict[str, Any],
               user: str, team: str, channel: str, response_url: str) -> str:
    """A block_actions interaction, as Slack posts it when someone presses `button`."""
    channel = message.get("channel") or channel
    ephemeral = message["via"].startswith("response_url") and \
        message.get("response_type") != "in_channel"
    ts = message.get("ts") or f"{int(time.time())}.{message['n']:06d}"
    index = (message.get("blocks") or []).index(block)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "api_app_id": "A1", "token": "legacy", "trigger_id": f"{_nonce()}.1.abc",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                      "is_ephemeral": ephemeral},
        "team": {"id": team, "domain": "test"}, "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage" if channel.startswith("D")
                    else "general"},
        "state": {"values": {}}, "response_url": response_url,
        "actions": [{"type": "button", "action_id": button.get("action_id", ""),
                     "block_id": block.get("block_id") or f"fake-block-{index}",
                     "text": button.get("text"), "value": button.get("value", ""),
                     "action_ts": f"{time.time():.6f}"}],
    }
    if not ephemeral:  # Slack shows the app the message itself, unless it was ephemeral
        payload["message"] = {"type": "message", "user": "UBOT", "bot_id": "BBOT", "ts": ts,
                              "text": message.get("text", ""), "blocks": message.get("blocks")}
    return urlencode({"payload": json.dumps(payload)})


async def _press(app_url: str, api: str, secret: str, label: str, user: str, channel: str,
                 wait: float = 15.0) -> int:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        since, sent = await _sent(session, api)
        found = find_button(sent, label)
        if found is None:
            newest = next((m for m in reversed(sent) if _buttons(m)), None)
            labels = " ".join(f"[{_label(b)}]" for _, b in _buttons(newest or {}))
            print(f"no button labelled {label!r}; the newest buttons are: {labels or 'none'}",
                  file=sys.stderr)
            return 1
        message, block, button = found
        print(f"pressing [{_label(button)}] on message #{message['n']}", flush=True)
        body = press_body(message, block, button, user, "T1", channel,
                          f"{_base(api)}/response/{_nonce()}")
        status = await _post_signed(session, app_url, secret, body,
                                    "application/x-www-form-urlencoded")
        if status == 200:
            await _print_replies(session, api, since, wait)
    return 0


def dm_body(text: str, user: str, channel: str, team: str = "T1") -> str:
    """An Events API `message` event: `user` wrote `text` in their DM with the bot."""
    ts = f"{time.time():.6f}"
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
             "event_ts": ts, "team": team, "channel_type": "im",
             "client_msg_id": f"fake-{_nonce()}"}
    return event_body(event, f"Ev{_nonce()}", team)


async def _dm(app_url: str, api: str, secret: str, text: str, user: str, channel: str | None,
              wait: float = 15.0) -> int:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        since, _ = await _sent(session, api)
        status = await _post_signed(session, app_url, secret,
                                    dm_body(text, user, channel or f"D{user}"),
                                    "application/json")
        if status == 200:
            await _print_replies(session, api, since, wait)
    return 0


async def _push_command(api: str, text: str, user: str) -> None:
    import aiohttp

    base = _base(api)
    payload = {"team_id": "T1", "channel_id": "C1", "user_id": user, "user_name": user.lower(),
               "command": "/aws-quiz", "text": text, "api_app_id": "A1",
               "response_url": f"{base}/response/{int(time.time())}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/push", json={"type": "slash_commands",
                                                      "payload": payload,
                                                      "envelope_id": str(time.time())}) as resp:
            print(f"pushed over Socket Mode: HTTP {resp.status}")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.slack_fakes",
                                     description="A local stand-in for Slack, for trying "
                                                 "aws-quiz without a workspace.")
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("api", help="run the fake Web API (prints every call it receives)")
    api.add_argument("--port", type=int, default=8900)
    api.add_argument("--admin", action="append", default=[], help="user ids that are admins")

    def to_app(name: str, help_text: str) -> argparse.ArgumentParser:
        one = sub.add_parser(name, help=help_text)
        one.add_argument("--app", default="http://127.0.0.1:3978/slack/events")
        one.add_argument("--api", default="http://127.0.0.1:8900/api/")
        one.add_argument("--secret", required=True, help="the SLACK_SIGNING_SECRET the app uses")
        one.add_argument("--user", default="U1")
        one.add_argument("--wait", type=float, default=15.0,
                         help="seconds to wait for the bot's answer")
        return one

    to_app("command", "send a signed /aws-quiz command over HTTP; print the answer") \
        .add_argument("text")
    press = to_app("press", "press a button on the newest message that has it, by its label; "
                            "print the answer")
    press.add_argument("label", help='the button\'s label, e.g. B or "Next question"')
    press.add_argument("--channel", default="C1",
                       help="the channel of an ephemeral answer (a slash command's)")
    dm = to_app("dm", "write to the bot in a direct message; print the answer")
    dm.add_argument("text")
    dm.add_argument("--channel", default=None, help="the DM channel (default D<user>)")
    push = sub.add_parser("socket-command", help="push an /aws-quiz command over Socket Mode")
    push.add_argument("text")
    push.add_argument("--api", default="http://127.0.0.1:8900/api/")
    push.add_argument("--user", default="U1")
    args = parser.parse_args()
    if args.command == "api":
        asyncio.run(_run_fake(args.port, set(args.admin)))
    elif args.command == "command":
        sys.exit(asyncio.run(_send_command(args.app, args.api, args.secret, args.text,
                                           args.user, args.wait)))
    elif args.command == "press":
        sys.exit(asyncio.run(_press(args.app, args.api, args.secret, args.label, args.user,
                                    args.channel, args.wait)))
    elif args.command == "dm":
        sys.exit(asyncio.run(_dm(args.app, args.api, args.secret, args.text, args.user,
                                 args.channel, args.wait)))
    else:
        asyncio.run(_push_command(args.api, args.text, args.user))


if __name__ == "__main__":
    main()
