"""Load `knowledge/` into typed records, collecting every problem with its file, line and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.knowledge.checker import FieldChecker, display_path
from bot.knowledge.schema import (
    Domain,
    Entry,
    KnowledgeBase,
    KnowledgeError,
    Option,
    Question,
    Section,
)
from bot.knowledge.yamlsource import LineDict, YamlSyntaxError, load_yaml

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
ENTRY_FIELDS = {
    "id", "title", "aliases", "summary", "details", "related", "domain", "section",
    "links", "former_names", "jobs",
}
QUESTION_FIELDS = {
    "id", "kind", "section", "difficulty", "entry", "prompt", "options", "answer", "explanation",
}
KINDS = ("single", "multiple", "truefalse")
CHOOSE_WORDS = {2: "two", 3: "three"}
LETTERS = "ABCDEFGH"


def normalise_name(name: str) -> str:
    """The form in which names and aliases are compared: lower case, single spaces."""
    return " ".join(name.lower().split())


def _read_sections(path: Path, kb: KnowledgeBase) -> list[Section]:
    sections: list[Section] = []
    if not path.exists():
        kb.errors.append(KnowledgeError(display_path(path), 1, "", "", "sections.tsv is missing"))
        return sections
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            kb.errors.append(KnowledgeError(display_path(path), number, "", "section",
                                            "expected module<TAB>section<TAB>line"))
            continue
        notes_line = int(parts[2]) if len(parts) > 2 and parts[2].strip().isdigit() else 0
        sections.append(Section(parts[0].strip(), parts[1].strip(), notes_line))
    return sections


def _read_domains(path: Path, kb: KnowledgeBase) -> list[Domain]:
    check = FieldChecker(kb.errors, str(path))
    try:
        raw = load_yaml(path)
    except FileNotFoundError:
        check.error(1, "", "domains", "domains.yaml is missing")
        return []
    except YamlSyntaxError as exc:
        check.error(exc.line, "", "", exc.message)
        return []
    if not isinstance(raw, LineDict) or not isinstance(raw.get("domains"), list):
        check.error(1, "", "domains", "must be a mapping with a list 'domains'")
        return []
    domains: list[Domain] = []
    for item in raw["domains"]:
        if not isinstance(item, LineDict):
            check.error(raw.line_of("domains"), "", "domains", "each domain must be a mapping")
            continue
        domain_id = check.text(item, "id", "")
        title = check.text(item, "title", domain_id)
        if domain_id:
            domains.append(Domain(domain_id, title))
    return domains


def _items(check: FieldChecker, path: Path, key: str) -> list[LineDict]:
    """The list under `key` in a content file, or [] after recording why not."""
    try:
        raw = load_yaml(path)
    except YamlSyntaxError as exc:
        check.error(exc.line, "", "", exc.message)
        return []
    if raw is None:
        return []
    if not isinstance(raw, LineDict) or not isinstance(raw.get(key), list):
        check.error(getattr(raw, "line", 1), "", key, f"the file must be a mapping with a list '{key}'")
        return []
    items: list[LineDict] = []
    for item in raw[key]:
        if isinstance(item, LineDict):
            items.append(item)
        else:
            check.error(raw.line_of(key), "", key, f"each item of '{key}' must be a mapping")
    return items


def _build_entry(check: FieldChecker, raw: LineDict, domain: str, section_names: set[str]) -> Entry:
    entry_id = raw.get("id") if isinstance(raw.get("id"), str) else ""
    entry_id = entry_id or ""
    check.unknown_fields(raw, ENTRY_FIELDS, entry_id)
    entry_id = check.text(raw, "id", entry_id)
    if entry_id and not ID_RE.match(entry_id):
        check.error(raw.line_of("id"), entry_id, "id", "must be kebab-case (a-z, 0-9, '-')")
    title = check.text(raw, "title", entry_id)
    aliases = check.text_list(raw, "aliases", entry_id, minimum=0)
    former = check.text_list(raw, "former_names", entry_id, minimum=0, required=False)
    summary = check.text(raw, "summary", entry_id)
    if summary and len(SENTENCE_SPLIT.split(summary)) > 2:
        check.error(raw.line_of("summary"), entry_id, "summary", "must be one or two sentences")
    details = check.text_list(raw, "details", entry_id)
    related = check.text_list(raw, "related", entry_id, minimum=0)
    entry_domain = check.text(raw, "domain", entry_id)
    if entry_domain and entry_domain != domain:
        check.error(raw.line_of("domain"), entry_id, "domain",
                    f"is '{entry_domain}' but the file is the '{domain}' domain")
    section = check.text(raw, "section", entry_id)
    if section and section not in section_names:
        check.error(raw.line_of("section"), entry_id, "section",
                    f"unknown section '{section}' (see knowledge/sections.tsv)")
    jobs = check.text_list(raw, "jobs", entry_id, minimum=2)
    links = check.text_list(raw, "links", entry_id, minimum=0, required=False)
    for link in links:
        if not link.startswith("https://"):
            check.error(raw.line_of("links"), entry_id, "links", f"not an https URL: {link}")
    all_aliases = tuple(dict.fromkeys(aliases + tuple(f for f in former if f not in aliases)))
    return Entry(
        id=entry_id, title=title, aliases=all_aliases, summary=summary, details=details,
        related=related, domain=domain, section=section, links=links, former_names=former,
        jobs=jobs, file=check.file, line=raw.line,
    )


def _letters_to_indexes(
    check: FieldChecker, raw: LineDict, qid: str, n_options: int
) -> tuple[int, ...]:
    value = raw.get("answer")
    if value is None:
        check.error(raw.line, qid, "answer", "is required")
        return ()
    letters = [value] if isinstance(value, str) else value
    if not isinstance(letters, list) or not letters or not all(
        isinstance(v, str) and len(v.strip()) == 1 for v in letters
    ):
        check.error(raw.line_of("answer"), qid, "answer", "must be a list of option letters, e.g. [B]")
        return ()
    indexes: list[int] = []
    for letter in letters:
        index = LETTERS.find(letter.strip().upper())
        if index < 0 or index >= n_options:
            check.error(raw.line_of("answer"), qid, "answer",
                        f"'{letter}' is not among the options (A-{LETTERS[max(n_options, 1) - 1]})")
            return ()
        indexes.append(index)
    if len(set(indexes)) != len(indexes):
        check.error(raw.line_of("answer"), qid, "answer", "lists the same option twice")
        return ()
    return tuple(sorted(indexes))


def _build_question(
    check: FieldChecker, raw: LineDict, domain: str, section_names: set[str]
) -> Question:
    qid = raw.get("id") if isinstance(raw.get("id"), str) else ""
    qid = qid or ""
    check.unknown_fields(raw, QUESTION_FIELDS, qid)
    qid = check.text(raw, "id", qid)
    kind = check.text(raw, "kind", qid)
    if kind and kind not in KINDS:
        check.error(raw.line_of("kind"), qid, "kind", f"must be one of {', '.join(KINDS)}")
    section = check.text(raw, "section", qid)
    if section and section not in section_names:
        check.error(raw.line_of("section"), qid, "section",
                    f"unknown section '{section}' (see knowledge/sections.tsv)")
    difficulty = raw.get("difficulty")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 3:
        check.error(raw.line_of("difficulty"), qid, "difficulty", "must be 1, 2 or 3")
        difficulty = 1
    entry = check.text(raw, "entry", qid)
    prompt = check.text(raw, "prompt", qid)
    explanation = check.text(raw, "explanation", qid)
    options: list[Option] = []
    raw_options = raw.get("options")
    if not isinstance(raw_options, list) or not raw_options:
        check.error(raw.line_of("options"), qid, "options", "must be a non-empty list")
        raw_options = []
    for raw_option in raw_options:
        if not isinstance(raw_option, LineDict):
            check.error(raw.line_of("options"), qid, "options", "each option needs 'text' and 'why'")
            continue
        check.unknown_fields(raw_option, {"text", "why"}, qid)
        text = check.text(raw_option, "text", qid)
        why = check.text(raw_option, "why", qid)
        options.append(Option(text, why))
    texts = [normalise_name(o.text) for o in options]
    if len(set(texts)) != len(texts):
        check.error(raw.line_of("options"), qid, "options", "two options have the same text")
    answer = _letters_to_indexes(check, raw, qid, len(options))
    _check_kind(check, raw, qid, kind, prompt, options, answer)
    return Question(
        id=qid, kind=kind, section=section, difficulty=difficulty, entry=entry, prompt=prompt,
        options=tuple(options), answer=answer, explanation=explanation, domain=domain,
        file=check.file, line=raw.line,
    )


def _check_kind(
    check: FieldChecker, raw: LineDict, qid: str, kind: str, prompt: str,
    options: list[Option], answer: tuple[int, ...],
) -> None:
    line = raw.line_of("options")
    if kind == "single":
        if len(options) != 4:
            check.error(line, qid, "options", "a single-choice question has exactly 4 options")
        if answer and len(answer) != 1:
            check.error(raw.line_of("answer"), qid, "answer", "a single-choice question has one answer")
    elif kind == "truefalse":
        if [o.text for o in options] != ["True", "False"]:
            check.error(line, qid, "options", "a true/false question has the options True, False")
        if answer and len(answer) != 1:
            check.error(raw.line_of("answer"), qid, "answer", "a true/false question has one answer")
    elif kind == "multiple":
        if not 4 <= len(options) <= 5:
            check.error(line, qid, "options", "a multiple-select question has 4 or 5 options")
        if answer and not 2 <= len(answer) <= 3:
            check.error(raw.line_of("answer"), qid, "answer",
                        "a multiple-select question has 2 or 3 answers")
        elif answer:
            word = CHOOSE_WORDS[len(answer)]
            if f"(choose {word}.)" not in prompt.lower():
                check.error(raw.line_of("prompt"), qid, "prompt",
                            f"must say '(Choose {word}.)' to match its {len(answer)} answers")


def _check_references(kb: KnowledgeBase, entry_raw: dict[str, LineDict]) -> None:
    owners: dict[str, str] = {}
    for entry in kb.entries.values():
        for name in (entry.id, entry.title):
            owners.setdefault(normalise_name(name), entry.id)
    for entry in kb.entries.values():
        raw = entry_raw[entry.id]
        for alias in entry.aliases:
            key = normalise_name(alias)
            owner = owners.get(key)
            if owner is not None and owner != entry.id:
                kb.errors.append(KnowledgeError(
                    entry.file, raw.line_of("aliases"), entry.id, "aliases",
                    f"alias '{alias}' is also claimed by entry '{owner}'"))
            else:
                owners[key] = entry.id
        for rid in entry.related:
            if rid not in kb.entries:
                kb.errors.append(KnowledgeError(
                    entry.file, raw.line_of("related"), entry.id, "related",
                    f"unknown entry id '{rid}'"))
            elif rid == entry.id:
                kb.errors.append(KnowledgeError(
                    entry.file, raw.line_of("related"), entry.id, "related", "refers to itself"))


def load_knowledge(root: Path, verify: bool = True) -> KnowledgeBase:
    """Load and validate the knowledge base under `root`; problems land in `kb.errors`.

    `verify` also checks what content does, not only its shape: every misconception's examples
    are detected and its counterexamples are not, and no model answer states one. `knowledge
    check` (and so `make test` and CI) verifies; a starting server checks the shape only."""
    kb = KnowledgeBase(sections=[], domains=[])
    kb.sections = _read_sections(root / "sections.tsv", kb)
    kb.domains = _read_domains(root / "domains.yaml", kb)
    section_names = {s.name for s in kb.sections}
    domain_ids = {d.id for d in kb.domains}
    entry_raw: dict[str, LineDict] = {}
    question_raw: list[tuple[Question, LineDict]] = []

    for path in sorted(root.glob("*.yaml")):
        if path.name != "domains.yaml" and path.stem not in domain_ids:
            kb.errors.append(KnowledgeError(display_path(path), 1, "", "domain",
                                            f"'{path.stem}' is not a domain in domains.yaml"))
    for path in sorted((root / "questions").glob("*.yaml")):
        if path.stem not in domain_ids:
            kb.errors.append(KnowledgeError(display_path(path), 1, "", "domain",
                                            f"'{path.stem}' is not a domain in domains.yaml"))

    for domain in kb.domains:
        path = root / f"{domain.id}.yaml"
        if path.exists():
            check = FieldChecker(kb.errors, str(path))
            for raw in _items(check, path, "entries"):
                entry = _build_entry(check, raw, domain.id, section_names)
                if not entry.id:
                    continue
                if entry.id in kb.entries:
                    other = kb.entries[entry.id]
                    check.error(raw.line_of("id"), entry.id, "id",
                                f"duplicate id (first defined at {other.file}:{other.line})")
                    continue
                kb.entries[entry.id] = entry
                entry_raw[entry.id] = raw
        qpath = root / "questions" / f"{domain.id}.yaml"
        if qpath.exists():
            check = FieldChecker(kb.errors, str(qpath))
            for raw in _items(check, qpath, "questions"):
                question = _build_question(check, raw, domain.id, section_names)
                if not question.id:
                    continue
                if question.id in kb.questions:
                    other_q = kb.questions[question.id]
                    check.error(raw.line_of("id"), question.id, "id",
                                f"duplicate id (first defined at {other_q.file}:{other_q.line})")
                    continue
                kb.questions[question.id] = question
                question_raw.append((question, raw))

    from bot.roleplay.scenarios import load_roleplay

    if (root / "objections").is_dir():  # role-play scenarios are optional for a knowledge base
        # scenarios get their misconceptions; a misconception's `entry` must be a loaded entry
        kb.scenarios, kb.misconceptions, scenario_errors = load_roleplay(root, set(kb.entries),
                                                                         verify)
        kb.errors.extend(scenario_errors)
    _check_references(kb, entry_raw)
    for question, raw in question_raw:
        if question.entry and question.entry not in kb.entries:
            kb.errors.append(KnowledgeError(question.file, raw.line_of("entry"), question.id,
                                            "entry", f"unknown entry id '{question.entry}'"))
    return kb


def coverage(kb: KnowledgeBase) -> dict[str, Any]:
    """The report `aws-quiz knowledge check --json` prints."""
    per_section = []
    uncovered = []
    for section in kb.sections:
        n_entries = sum(1 for e in kb.entries.values() if e.section == section.name)
        n_questions = sum(1 for q in kb.questions.values() if q.section == section.name)
        per_section.append({"module": section.module, "section": section.name,
                            "entries": n_entries, "questions": n_questions})
        if n_entries == 0:
            uncovered.append(section.name)
    from bot.knowledge.bankstats import bank_stats
    from bot.roleplay.scenarios import TOPICS

    return {
        "entries": len(kb.entries),
        "questions": len(kb.questions),
        "scenarios": {topic: sum(1 for s in kb.scenarios.values() if s.topic == topic)
                      for topic in TOPICS},
        "scenarios_per_topic": {topic: sum(1 for s in kb.scenarios.values() if s.topic == topic)
                                for topic in TOPICS},
        # topic-wide misconceptions (objections/misconceptions/<topic>.yaml) and those that
        # belong to scenarios, per topic
        "misconceptions_per_topic": {
            topic: sum(1 for m in kb.misconceptions.values() if m.topic == topic and not m.scenarios)
            for topic in TOPICS},
        "scenario_misconceptions_per_topic": {
            topic: sum(1 for m in kb.misconceptions.values() if m.topic == topic and m.scenarios)
            for topic in TOPICS},
        "sections": per_section,
        "uncovered": uncovered,
        # fairness figures of the quiz questions, each with whether it meets its target
        "question_bank": bank_stats(kb.questions.values(), [d.id for d in kb.domains]),
        "errors": [e.as_dict() for e in kb.errors],
    }
