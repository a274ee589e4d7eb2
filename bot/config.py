"""Settings read from the environment (12-factor); secrets are never printed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_KNOWLEDGE = PACKAGE_ROOT / "knowledge"


class SettingsError(ValueError):
    """An environment variable holds a value the bot cannot use; the message names it."""


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _retention_days(env: dict[str, str]) -> int:
    """AWS_QUIZ_RETENTION_DAYS: 0 (keep answer history forever) or 30..3650 days."""
    name = "AWS_QUIZ_RETENTION_DAYS"
    raw = env.get(name, "").strip()
    if raw in ("", "0"):
        return 0
    try:
        return _int(env, name, 0, 30, 3650)
    except SettingsError:
        raise SettingsError(f"{name} must be 0 (keep answer history forever) or a number of "
                            f"days between 30 and 3650, not {raw!r}") from None


def _split_ids(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.replace(";", ",").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the defaults a newcomer needs."""

    knowledge_dir: Path = SHIPPED_KNOWLEDGE
    data_dir: Path = Path("data")
    database_url: str = ""
    admins: frozenset[str] = field(default_factory=frozenset)
    log_level: str = "INFO"
    log_format: str = "text"
    exam_pass_mark: int = 70
    roleplay_idle_minutes: int = 30
    shutdown_grace_seconds: int = 25  # SIGTERM: finish acknowledged work for this long
    daily_lease_seconds: int = 120  # a daily claim not finished by then is taken over
    work_lease_seconds: int = 30  # acknowledged work whose replica stops renewing is taken over
    scheduler_seconds: int = 30  # time between daily scheduler passes
    retention_days: int = 0  # prune answer history older than this (0: keep it forever)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'aws-quiz.db').resolve()}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        return cls(
            knowledge_dir=Path(env.get("AWS_QUIZ_KNOWLEDGE") or SHIPPED_KNOWLEDGE),
            data_dir=Path(env.get("AWS_QUIZ_DATA") or "data"),
            database_url=env.get("DATABASE_URL", ""),
            admins=_split_ids(env.get("AWS_QUIZ_ADMINS", "")),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            log_format=env.get("LOG_FORMAT", "text"),
            exam_pass_mark=_int(env, "AWS_QUIZ_PASS_MARK", 70, 1, 100),
            roleplay_idle_minutes=_int(env, "AWS_QUIZ_ROLEPLAY_IDLE_MINUTES", 30, 1, 24 * 60),
            shutdown_grace_seconds=_int(env, "AWS_QUIZ_SHUTDOWN_GRACE_SECONDS", 25, 0, 3600),
            daily_lease_seconds=_int(env, "AWS_QUIZ_DAILY_LEASE_SECONDS", 120, 10, 3600),
            work_lease_seconds=_int(env, "AWS_QUIZ_WORK_LEASE_SECONDS", 30, 5, 3600),
            scheduler_seconds=_int(env, "AWS_QUIZ_SCHEDULER_SECONDS", 30, 1, 3600),
            retention_days=_retention_days(env),
        )
