"""Helpers for the small markdown subset replies use; user text is escaped before it is echoed."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([*_`\[\]])")


def escape_md(text: str) -> str:
    """Make user text inert inside our markdown subset (no bold, links or code from users)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def bar(fraction: float, width: int = 10) -> str:
    """A text progress bar: bar(0.62) -> '▓▓▓▓▓▓░░░░'."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * width)
    return "▓" * filled + "░" * (width - filled)


_SMALL_NUMBER = re.compile(r"[0-9]{1,6}")


def small_number(text: str, max_digits: int = 6) -> int | None:
    """An ASCII whole number of at most `max_digits` digits, else None.

    Checked before `int()` ever sees the text: `int()` accepts other scripts' digits, refuses
    some characters `str.isdigit()` accepts ("²") and raises on more than 4,300 digits, so a
    user's "exam 999…9" must never reach it unchecked.
    """
    text = text.strip()
    if len(text) > max_digits or _SMALL_NUMBER.fullmatch(text) is None:
        return None
    return int(text)
