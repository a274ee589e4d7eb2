"""Logging setup: text or JSON lines, with secrets redacted from every message."""

from __future__ import annotations

import json
import logging
import os
import re

from bot.config import Settings

SECRET_ENV = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_SECRET",
              "MicrosoftAppPassword", "DATABASE_URL")
TOKEN_RE = re.compile(r"xox[abposer]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|"
                      r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]{16,}|(?<=://)[^:/@\s]+:[^@/\s]+(?=@)")


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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets())
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    level = root.getEffectiveLevel()
    for noisy in ("slack_sdk", "slack_bolt", "botbuilder", "msal", "urllib3", "aiohttp.access",
                  "alembic"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING if noisy == "alembic"
                                              else logging.INFO))
