"""Field-by-field validation of YAML content, collecting errors with file, line, id and field."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.schema import KnowledgeError
from bot.knowledge.yamlsource import LineDict


def display_path(path: str | Path) -> str:
    """A path relative to the working directory when it is below it, for short messages."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class FieldChecker:
    """Collects errors for one content file while typed records are built from it.

    Field names are reported with an optional dotted prefix (`persona.name`,
    `concepts[encryption].weight`) so a nested problem is as easy to find as a top-level one.
    """

    def __init__(self, errors: list[KnowledgeError], file: str) -> None:
        self.errors = errors
        self.file = display_path(file)

    def error(self, line: int, item_id: str, field: str, message: str) -> None:
        self.errors.append(KnowledgeError(self.file, line, item_id, field, message))

    def text(self, raw: LineDict, key: str, item_id: str, prefix: str = "",
             required: bool = True) -> str:
        name = prefix + key
        value = raw.get(key)
        if value is None:
            if required:
                self.error(raw.line, item_id, name, "is required")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.error(raw.line_of(key), item_id, name, "must be a non-empty string")
            return ""
        return " ".join(value.split())

    def text_list(self, raw: LineDict, key: str, item_id: str, prefix: str = "",
                  minimum: int = 1, required: bool = True) -> tuple[str, ...]:
        name = prefix + key
        value = raw.get(key)
        if value is None:
            if required:
                self.error(raw.line, item_id, name, "is required")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(raw.line_of(key), item_id, name, "must be a list of non-empty strings")
            return ()
        if len(value) < minimum:
            self.error(raw.line_of(key), item_id, name, f"needs at least {minimum} item(s)")
        return tuple(" ".join(v.split()) for v in value)

    def mapping(self, raw: LineDict, key: str, item_id: str, prefix: str = "") -> LineDict | None:
        value = raw.get(key)
        if value is None:
            self.error(raw.line, item_id, prefix + key, "is required")
            return None
        if not isinstance(value, LineDict):
            self.error(raw.line_of(key), item_id, prefix + key, "must be a mapping")
            return None
        return value

    def mappings(self, raw: LineDict, key: str, item_id: str, minimum: int = 1) -> list[LineDict]:
        value = raw.get(key)
        if value is None:
            self.error(raw.line, item_id, key, "is required")
            return []
        if not isinstance(value, list):
            self.error(raw.line_of(key), item_id, key, "must be a list of mappings")
            return []
        items = [v for v in value if isinstance(v, LineDict)]
        if len(items) != len(value):
            self.error(raw.line_of(key), item_id, key, "each item must be a mapping")
        if len(value) < minimum:
            self.error(raw.line_of(key), item_id, key, f"needs at least {minimum} item(s)")
        return items

    def unknown_fields(self, raw: LineDict, allowed: set[str], item_id: str,
                       prefix: str = "") -> None:
        for key in raw:
            if key not in allowed:
                self.error(raw.line_of(key), item_id, prefix + key,
                           f"unknown field (allowed: {', '.join(sorted(allowed))})")
