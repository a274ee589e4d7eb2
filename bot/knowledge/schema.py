"""Typed records of the knowledge base and the error type that names file, line, id and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.roleplay.misconceptions import Misconception
    from bot.roleplay.scenarios import Scenario


@dataclass(frozen=True)
class KnowledgeError:
    """One problem in a content file, precise enough to fix without searching."""

    file: str
    line: int
    item_id: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        what = f"'{self.item_id}'" if self.item_id else "(no id)"
        return f"{where}: {what} field '{self.field}': {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "id": self.item_id,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True)
class Section:
    """A course section from sections.tsv."""

    module: str
    name: str
    notes_line: int


@dataclass(frozen=True)
class Domain:
    """A domain: one file of entries, one of questions."""

    id: str
    title: str


@dataclass(frozen=True)
class Entry:
    """A knowledge entry: one service, concept or practice."""

    id: str
    title: str
    aliases: tuple[str, ...]
    summary: str
    details: tuple[str, ...]
    related: tuple[str, ...]
    domain: str
    section: str
    links: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()  # what people say when they mean this entry ("turn text into speech")
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Option:
    """One answer option of a question, with why it is right or wrong."""

    text: str
    why: str


@dataclass(frozen=True)
class Question:
    """A quiz question: single choice, multiple select or true/false."""

    id: str
    kind: str
    section: str
    difficulty: int
    entry: str
    prompt: str
    options: tuple[Option, ...]
    answer: tuple[int, ...]
    explanation: str
    domain: str = ""
    file: str = ""
    line: int = 0

    @property
    def correct_texts(self) -> tuple[str, ...]:
        return tuple(self.options[i].text for i in self.answer)


@dataclass
class KnowledgeBase:
    """Everything loaded from `knowledge/`, plus the problems found while loading."""

    sections: list[Section]
    domains: list[Domain]
    entries: dict[str, Entry] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    # every misconception by id: topic-wide ones and those of scenarios (each scenario also
    # carries the ones that apply to it)
    misconceptions: dict[str, Misconception] = field(default_factory=dict)
    errors: list[KnowledgeError] = field(default_factory=list)
    _modules: dict[str, str] = field(default_factory=dict, repr=False)

    def module_of(self, section: str) -> str:
        """The course module a section belongs to ('' for an unknown section)."""
        if len(self._modules) != len(self.sections):
            self._modules = {s.name: s.module for s in self.sections}
        return self._modules.get(section, "")

    def domain(self, domain_id: str) -> Domain | None:
        return next((d for d in self.domains if d.id == domain_id), None)
