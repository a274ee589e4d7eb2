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
