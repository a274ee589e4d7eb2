"""Durations as people type them (`90m`, `2h`, `1h30m`, `45 min`) and as replies say them."""

from __future__ import annotations

import re

_PART = r"([0-9]{1,4})\s*(h|hr|hrs|hours?|m|min|mins|minutes?)"
_DURATION = re.compile(rf"^(?:{_PART})(?:\s*{_PART})?$")


def parse_minutes(text: str) -> int | None:
    """Whole minutes from `30m`, `30 min`, `2h`, `2 hours`, `1h30m`, `1h 30m`; None otherwise.

    A bare number is not a duration (it is a count elsewhere in the grammar). At most four
    digits per part, so a pasted wall of digits never reaches `int()`.
    """
    match = _DURATION.fullmatch(" ".join(text.lower().split()))
    if match is None:
        return None
    total = 0
    for amount, unit in ((match.group(1), match.group(2)), (match.group(3), match.group(4))):
        if amount is None:
            continue
        total += int(amount) * (60 if unit.startswith("h") else 1)
    return total


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """`1 minute`, `2 minutes`, `1 question`, `3 questions`."""
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"


def describe_minutes(minutes: int) -> str:
    """`45 minutes`, `1 hour`, `2 hours 30 minutes`."""
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return plural(rest, "minute")
    if not rest:
        return plural(hours, "hour")
    return f"{plural(hours, 'hour')} {plural(rest, 'minute')}"
