"""The door of `/slack/events`: refuse anything unsigned or malformed cheaply, before Bolt.

Slack signs the raw body with the app's signing secret. The signature is checked here on the
bytes exactly as received, before anything is decoded or parsed, so a forged, stale or
malformed request costs one HMAC and gets 401 or 400 with one short log line, never a 500 with a
traceback. Only then is the body decoded and parsed the way Bolt will parse it, so that Bolt
never meets a body it cannot read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 60 * 5  # Slack's own rule: older requests may be replays
TIMESTAMP_DIGITS = 12


class Refused(Exception):
    """The request is refused; `status` is the HTTP answer and `reason` the log line's end."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_signature(secret: str, body: bytes, headers: Mapping[str, str],
                    now: Callable[[], float] = time.time) -> None:
    """Raise Refused(401) unless the request carries Slack's v0 signature of this body."""
    timestamp = headers.get("X-Slack-Request-Timestamp") or ""
    signature = headers.get("X-Slack-Signature") or ""
    if not timestamp or not signature:
        raise Refused(401, "no Slack signature")
    if len(timestamp) > TIMESTAMP_DIGITS or not timestamp.isascii() or not timestamp.isdigit():
        raise Refused(401, "malformed signature timestamp")
    if abs(now() - int(timestamp)) > MAX_AGE_SECONDS:
        raise Refused(401, "stale signature timestamp")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "invalid signature")


def parse(body: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    """The body as text and as Bolt will read it; Refused(400) when it cannot be read."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if not text:
        raise Refused(400, "empty body")
    try:
        if content_type == "application/json" or text.startswith("{"):
            parsed: Any = json.loads(text)
        else:
            params = dict(parse_qsl(text, keep_blank_values=True))
            parsed = json.loads(params["payload"]) if "payload" in params else params
    except (ValueError, RecursionError):
        raise Refused(400, "body cannot be parsed") from None
    if not isinstance(parsed, dict) or not parsed:
        raise Refused(400, "body is not a Slack payload")
    problem = shape_problem(parsed)
    if problem is not None:
        raise Refused(400, problem)
    return text, parsed


# Fields Bolt reads without checking their type: a signed body with the wrong type in one of them
# would make Bolt's middleware fail with a traceback and a 500.
_TEXT_FIELDS = ("type", "team_id", "user_id", "channel_id", "command", "text", "response_url",
                "trigger_id", "api_app_id", "enterprise_id", "event_id", "token")
_OBJECT_FIELDS = ("event", "user", "team", "channel", "container", "view", "message",
                  "authorizations", "actions", "enterprise")
_EVENT_TEXT_FIELDS = ("type", "user", "channel", "channel_type", "text", "ts", "subtype",
                      "bot_id", "tab", "team")


def shape_problem(payload: dict[str, Any]) -> str | None:
    """Why a parsed payload is not one Slack would send, or None when it could be."""
    for name in _TEXT_FIELDS:
        if name in payload and not isinstance(payload[name], str):
            return f"{name} is not text"
    for name in _OBJECT_FIELDS:
        value = payload.get(name)
        if value is None:
            continue
        if name in ("authorizations", "actions"):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                return f"{name} is not a list of objects"
        elif name in ("team", "enterprise", "channel", "user") and isinstance(value, str):
            continue  # some payloads carry ids here
        elif not isinstance(value, dict):
            return f"{name} is not an object"
    if payload.get("type") == "event_callback":
        event = payload.get("event")
        if not isinstance(event, dict):
            return "event_callback without an event"
        for name in _EVENT_TEXT_FIELDS:
            if name in event and event[name] is not None and not isinstance(event[name], str):
                return f"event.{name} is not text"
    return None


def refuse_line(remote: str | None, exc: Refused) -> None:
    """The one short log line a refused request gets."""
    log.warning("slack: refused a request from %s: %s (%d)", remote or "?", exc.reason,
                exc.status)
