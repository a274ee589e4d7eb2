"""Resolve what a learner typed after `quiz` or `exam` to a set of questions.

In order: the whole course (''), a topic (domain id or title), a module or a section by exact
name; then a knowledge entry by its id, title, alias or former name (`quiz lambda`, `quiz eks`):
its own questions first, then the rest of its section; then a topic, module or section with a
typo; then every entry whose names contain the typed words (`quiz kubernetes`, `quiz cost`);
then an entry name with a typo. Anything else is unknown and the caller lists the topics.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.knowledge.schema import Entry, KnowledgeBase, Question
from bot.text import escape_md

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Scope:
    """A named slice of the question bank ('' is everything). `focus` are the questions asked
    first while any of them is new or due (an entry's own questions inside its section)."""

    key: str
    label: str
    question_ids: tuple[str, ...]
    focus: tuple[str, ...] = ()


def _questions(kb: KnowledgeBase, keep: Callable[[Question], bool]) -> tuple[str, ...]:
    return tuple(q.id for q in kb.questions.values() if keep(q))


def _in_domain(domain_id: str) -> Callable[[Question], bool]:
    return lambda question: question.domain == domain_id


def _in_sections(names: set[str]) -> Callable[[Question], bool]:
    return lambda question: question.section in names


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split())


def _names(entry: Entry) -> list[str]:
    return [_normal(n) for n in (entry.id, entry.title, *entry.aliases, *entry.former_names)]


def _entry_scope(kb: KnowledgeBase, entry: Entry) -> Scope | None:
    """An entry's questions (asked first), then the rest of its section's; None if neither."""
    own = _questions(kb, lambda q: q.entry == entry.id)
    section = _questions(kb, lambda q: q.section == entry.section and q.entry != entry.id)
    if not own and not section:
        return None
    return Scope(entry.title, entry.title, own + section, focus=own)


def _word_scope(kb: KnowledgeBase, wanted: str) -> Scope | None:
    """Every question of the entries whose names contain all the typed words ('cost'); the
    entry's own scope when only one entry has them ('kubernetes' is a name of EKS)."""
    words = list(dict.fromkeys(_WORD.findall(wanted)))
    if not words or len(wanted) < 3:
        return None
    hits = [e for e in kb.entries.values()
            if any(set(words) <= set(_WORD.findall(name)) for name in _names(e))]
    with_questions = {q.entry for q in kb.questions.values()} & {e.id for e in hits}
    if len(with_questions) == 1:
        return _entry_scope(kb, kb.entries[with_questions.pop()])
    ids = _questions(kb, lambda q: q.entry in with_questions)
    if not ids:
        return None
    key = " ".join(words)[:100]  # a showing's scope column holds 100 characters
    return Scope(key, escape_md(key), ids)


def _labels(kb: KnowledgeBase) -> dict[str, Scope]:
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
    return labels


def resolve_scope(kb: KnowledgeBase, text: str) -> Scope | None:
    """'' -> the whole course; a domain, module, section or entry name (typos ok), or words in
    entries' names; None when nothing matches."""
    text = text.strip()
    if not text:
        return Scope("", "the whole course", tuple(kb.questions))
    labels = _labels(kb)
    wanted = _normal(text)
    if wanted in labels:
        return labels[wanted]
    by_name: dict[str, Entry] = {}
    for entry in kb.entries.values():
        for name in _names(entry):
            by_name.setdefault(name, entry)
    if wanted in by_name and (scope := _entry_scope(kb, by_name[wanted])) is not None:
        return scope
    hit = process.extractOne(wanted, list(labels), scorer=fuzz.WRatio, score_cutoff=86)
    if hit:
        return labels[hit[0]]
    if (scope := _word_scope(kb, wanted)) is not None:
        return scope
    near = process.extractOne(wanted, list(by_name), scorer=fuzz.ratio, score_cutoff=88)
    return _entry_scope(kb, by_name[near[0]]) if near else None
