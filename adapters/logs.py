"""Logging setup: text or JSON lines, with secrets redacted and each request's id and platform.

`LOG_FORMAT=json` writes one object per line: `time` (UTC, ISO 8601), `level`, `logger`,
`message`, `pid`, `worker` (with `serve --workers`), and inside a request `request_id` and
`platform`; `exception` when there is one. The request id comes from the request (see
`adapters.server`) and is kept by everything the request starts, including the work done after
Slack's acknowledgement. Text lines end with `[request_id platform]` inside a request.

No message text reaches the log at INFO: our own lines never include it, and the Slack and
Teams SDKs (which log request bodies at INFO in places) log at WARNING and above only, unless
LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime

from bot.config import Settings

SECRET_ENV = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_SECRET",
              "MicrosoftAppPassword", "DATABASE_URL", "AWS_QUIZ_ADMIN_TOKEN")
TOKEN_RE = re.compile(r"xox[abposer]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|"
                      r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]{16,}|(?<=://)[^:/@\s]+:[^@/\s]+(?=@)")
SDK_LOGGERS = ("slack_sdk", "slack_bolt", "microsoft_agents", "msal", "urllib3",
               "aiohttp.access")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                       default=None)
platform: contextvars.ContextVar[str | None] = contextvars.ContextVar("platform", default=None)


class RedactSecrets(logging.Filter):
    """Replaces configured secret values and anything shaped like a token with [redacted]."""

    def __init__(self) -> None:
        super().__init__()
        self.values = [v for k in SECRET_ENV if len(v := os.environ.get(k, "")) >= 6]

    def redact(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, "[redacted]")
        return TOKEN_RE.sub("[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


class RequestContext(logging.Filter):
    """Puts the current request's id and platform on every record (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        if not hasattr(record, "platform"):
            record.platform = platform.get()
        return True


class DropMessages(logging.Filter):
    """Drops records whose message matches `drop` (noise we cause on purpose)."""

    def __init__(self, drop: Callable[[str], bool]) -> None:
        super().__init__()
        self.drop = drop

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.drop(str(record.msg))


class OncePerProcess(logging.Filter):
    """Lets a message that `matches` through once; decoration lines (only `*`) never."""

    def __init__(self, matches: Callable[[str], bool]) -> None:
        super().__init__()
        self.matches = matches
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if text and set(text) == {"*"}:
            return False
        if not self.matches(text):
            return True
        if text in self.seen:
            return False
        self.seen.add(text)
        return True


def is_teams_local_banner(text: str) -> bool:
    return text.startswith("Teams LOCAL MODE")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "pid": record.process}
        worker = os.environ.get("AWS_QUIZ_WORKER")
        if worker is not None:
            data["worker"] = int(worker) if worker.isdigit() else worker
        for name in ("request_id", "platform"):
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        if rid is None:
            return line
        where = getattr(record, "platform", None)
        first, newline, rest = line.partition("\n")
        return f"{first} [{rid}{' ' + where if where else ''}]{newline}{rest}"


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets())
    handler.addFilter(RequestContext())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    level = root.getEffectiveLevel()
    # The SDKs log whole request bodies at INFO in places (slack_bolt: an invalid signature, an
    # unhandled request): they speak at WARNING and above, unless LOG_LEVEL=DEBUG asks for all.
    sdk_level = level if level <= logging.DEBUG else max(level, logging.WARNING)
    for noisy in SDK_LOGGERS:
        logging.getLogger(noisy).setLevel(sdk_level)
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    # Teams local mode warns in its constructor and again, in a banner, when it starts: once.
    teams = logging.getLogger("adapters.teams.adapter")
    if not any(isinstance(f, OncePerProcess) for f in teams.filters):
        teams.addFilter(OncePerProcess(is_teams_local_banner))
