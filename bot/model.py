"""The neutral message model every adapter speaks: Context, Message, Action, Reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Platform = Literal["slack", "teams", "console"]


@dataclass(frozen=True)
class Context:
    """Who is talking and where."""

    platform: Platform
    tenant: str
    user: str
    user_name: str = ""
    channel: str = ""
    thread: str | None = None
    direct: bool = False
    is_admin: bool = False


@dataclass(frozen=True)
class Message:
    """A command or free-text line from a user."""

    context: Context
    text: str


@dataclass(frozen=True)
class Action:
    """A button press or card submit. Its value routes; it is never trusted."""

    context: Context
    action_id: str
    value: str = ""


@dataclass(frozen=True)
class Choice:
    """A button: the action id it triggers, its label and the value it carries."""

    action_id: str
    label: str
    value: str = ""


@dataclass(frozen=True)
class Field:
    """A label/value pair shown as a small table (a scorecard, a stats line)."""

    label: str
    value: str


@dataclass(frozen=True)
class Reply:
    """What the core says. `text` uses a small markdown subset; adapters render it."""

    text: str
    choices: tuple[Choice, ...] = ()
    fields: tuple[Field, ...] = ()
    private: bool = False
    replace: bool = False
    dm: bool = False  # deliver in the user's direct conversation (e.g. a role-play started in a channel)


@dataclass(frozen=True)
class ConversationRef:
    """Our serialisable address of a conversation, for scheduled posts."""

    platform: Platform
    tenant: str
    channel: str
    reference: dict[str, Any] = field(default_factory=dict)
