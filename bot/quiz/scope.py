"""Resolve what a learner typed after `quiz` or `exam` to a set of questions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.knowledge.schema import KnowledgeBase, Question


@dataclass(frozen=True)
class Scope:
    """A named slice of the question bank ('' is everything)."""

    key: str
    label: str
    question_ids: tuple[str, ...]


def _questions(kb: KnowledgeBase, keep: Callable[[Question], bool]) -> tuple[str, ...]:
    return tuple(q.id for q in kb.questions.values() if keep(q))


def _in_domain(domain_id: str) -> Callable[[Question], bool]:
    return lambda question: question.domain == domain_id


def _in_sections(names: set[str]) -> Callable[[Question], bool]:
    return lambda question: question.section in names


def resolve_scope(kb: KnowledgeBase, text: str) -> Scope | None:
    """'' -> the whole course; a domain id or title, a module or a section name (typos ok)."""
    text = text.strip()
    if not text:
        return Scope("", "the whole course", tuple(kb.questions))
    labels: dict[str, Scope] = {}
    for domain in kb.domains:
        scope = Scope(domain.id, domain.title, _questions(kb, _in_domain(domain.id)))
        labels[domain.id.replace("-", " ")] = scope
        labels[domain.title.lower()] = scope
    for module in dict.fromkeys(s.module for s in kb.sections):
        sections = {s.name for s in kb.sections if s.module == module}
        labels[module.lower()] = Scope(module, module, _questions(kb, _in_sections(sections)))
    for section in kb.sections:
        labels.setdefault(section.name.lower(), Scope(
            section.name, section.name, _questions(kb, _in_sections({section.name}))))
    wanted = " ".join(text.lower().replace("-", " ").split())
    if wanted in labels:
        return labels[wanted]
    hit = process.extractOne(wanted, list(labels), scorer=fuzz.WRatio, score_cutoff=86)
    return labels[hit[0]] if hit else None

