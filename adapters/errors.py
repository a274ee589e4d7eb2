"""Errors the composition root reports to the operator in one line, without a traceback."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration the server must not start with; the message says what to set."""
