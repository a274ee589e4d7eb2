"""Objection role-play scenarios: typed records loaded and validated from knowledge/objections/*.yaml."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.knowledge.checker import FieldChecker, display_path
from bot.knowledge.schema import KnowledgeError
from bot.knowledge.yamlsource import LineDict, YamlSyntaxError, load_yaml
from bot.roleplay.misconceptions import (
    Misconception,
    _Built,
    applicable,
    build_misconceptions,
    check_misconceptions,
    find_misconceptions,
    load_misconception_files,
)

TOPICS = ("security", "cost", "scalability")
DIFFICULTIES = ("easy", "medium", "hard")
MIN_WEIGHT, MAX_WEIGHT = 1, 3
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

SCENARIO_FIELDS = {
    "id", "topic", "difficulty", "default", "title", "persona", "opening", "hidden_concern",
    "pushbacks", "concepts", "evidence", "jargon", "next_steps", "model_answers", "misconceptions",
}
PERSONA_FIELDS = {"name", "role", "company", "intro"}
CONCERN_FIELDS = {"summary", "reveal", "keywords"}
CONCEPT_FIELDS = {"id", "label", "weight", "aliases", "try"}
EVIDENCE_FIELDS = {"id", "label", "aliases", "try"}
JARGON_FIELDS = {"term", "meaning"}
MODEL_FIELDS = {"opening", "concern", "pushbacks"}


@dataclass(frozen=True)
class Persona:
    """Who the learner is talking to."""

    name: str
    role: str
    company: str
    intro: str


@dataclass(frozen=True)
class HiddenConcern:
    """What really worries the customer; revealed only after a good clarifying question."""

    summary: str
    reveal: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Concept:
    """An idea a good answer covers; any alias (not negated) in a reply shows it."""

    id: str
    label: str
    weight: int
    aliases: tuple[str, ...]
    try_text: str


@dataclass(frozen=True)
class Evidence:
    """A proof point from the course (programme, figure, reference customer, case study)."""

    id: str
    label: str
    aliases: tuple[str, ...]
    try_text: str


@dataclass(frozen=True)
class Jargon:
    """A term this customer would not follow unless it is spelled out."""

    term: str
    meaning: str


@dataclass(frozen=True)
class ModelAnswers:
    """Example replies the bot can show: to the opening, to the revealed concern, to each pushback."""

    opening: str
    concern: str
    pushbacks: tuple[str, ...]


@dataclass(frozen=True)
class Scenario:
    """One customer, one objection, and everything needed to play and grade it."""

    id: str
    topic: str
    difficulty: str
    default: bool
    title: str
    persona: Persona
    opening: tuple[str, ...]
    hidden_concern: HiddenConcern
    pushbacks: tuple[str, ...]
    concepts: tuple[Concept, ...]
    evidence: tuple[Evidence, ...]
    jargon: tuple[Jargon, ...]
    next_steps: tuple[str, ...]
    model_answers: ModelAnswers
    # every misconception that applies here: all topic-wide ones (of every topic) plus its own
    misconceptions: tuple[Misconception, ...] = ()
    file: str = ""
    line: int = 0

    @property
    def opening_line(self) -> str:
        """The canonical opening objection (the first variant)."""
        return self.opening[0]

    @property
    def total_weight(self) -> int:
        return sum(c.weight for c in self.concepts)

    @property
    def coverage_target(self) -> int:
        """Concept weight a reply needs for full Continue-concepts credit: half the total, rounded up."""
        return max(1, math.ceil(self.total_weight / 2))


def _try_text(value: str) -> str:
    """Authors may write 'Try: ...' or just the suggestion; store the suggestion alone."""
    return re.sub(r"^try:\s*", "", value, flags=re.IGNORECASE)


def _points(check: FieldChecker, raw: LineDict, key: str, sid: str, weighted: bool,
            ) -> list[tuple[LineDict, str, str, int, tuple[str, ...], str]]:
    """Shared validation of `concepts` and `evidence` items."""
    allowed = CONCEPT_FIELDS if weighted else EVIDENCE_FIELDS
    built = []
    seen_ids: set[str] = set()
    alias_owner: dict[str, str] = {}
    for item in check.mappings(raw, key, sid):
        check.unknown_fields(item, allowed, sid, f"{key}.")
        pid = check.text(item, "id", sid, f"{key}.")
        where = f"{key}[{pid}]." if pid else f"{key}."
        if pid and pid in seen_ids:
            check.error(item.line_of("id"), sid, f"{key}.id", f"duplicate {key} id '{pid}'")
        seen_ids.add(pid)
        label = check.text(item, "label", sid, where)
        weight = 1
        if weighted:
            value = item.get("weight")
            if value is None:
                check.error(item.line, sid, where + "weight", "is required")
            elif (not isinstance(value, int) or isinstance(value, bool)
                  or not MIN_WEIGHT <= value <= MAX_WEIGHT):
                check.error(item.line_of("weight"), sid, where + "weight",
                            f"must be a whole number from {MIN_WEIGHT} to {MAX_WEIGHT}, "
                            f"not {value!r}")
            else:
                weight = value
        aliases = check.text_list(item, "aliases", sid, where)
        for alias in aliases:
            norm = " ".join(alias.lower().split())
            owner = alias_owner.get(norm)
            if owner is not None and owner != pid:
                check.error(item.line_of("aliases"), sid, where + "aliases",
                            f"alias '{alias}' is also listed under '{owner}'")
            alias_owner[norm] = pid
        try_text = _try_text(check.text(item, "try", sid, where))
        built.append((item, pid, label, weight, aliases, try_text))
    return built


def _build(check: FieldChecker, raw: LineDict, file_topic: str,
           own: list[_Built] | None = None,
           entry_ids: set[str] | frozenset[str] | None = None,
           verify: bool = True) -> Scenario | None:
    raw_id = raw.get("id")
    sid = raw_id if isinstance(raw_id, str) else ""
    check.unknown_fields(raw, SCENARIO_FIELDS, sid)
    sid = check.text(raw, "id", sid)
    if sid and not ID_RE.match(sid):
        check.error(raw.line_of("id"), sid, "id", "must be kebab-case (a-z, 0-9, '-')")

    topic = check.text(raw, "topic", sid)
    if topic and topic not in TOPICS:
        check.error(raw.line_of("topic"), sid, "topic",
                    f"unknown topic '{topic}' (one of: {', '.join(TOPICS)})")
    elif topic and file_topic in TOPICS and topic != file_topic:
        check.error(raw.line_of("topic"), sid, "topic",
                    f"is '{topic}' but the file is {file_topic}.yaml")
    difficulty = check.text(raw, "difficulty", sid)
    if difficulty and difficulty not in DIFFICULTIES:
        check.error(raw.line_of("difficulty"), sid, "difficulty",
                    f"unknown difficulty '{difficulty}' (one of: {', '.join(DIFFICULTIES)})")
    default = raw.get("default", False)
    if not isinstance(default, bool):
        check.error(raw.line_of("default"), sid, "default", "must be true or false")
        default = False
    title = check.text(raw, "title", sid)

    persona = Persona("", "", "", "")
    raw_persona = check.mapping(raw, "persona", sid)
    if raw_persona is not None:
        check.unknown_fields(raw_persona, PERSONA_FIELDS, sid, "persona.")
        persona = Persona(*(check.text(raw_persona, k, sid, "persona.")
                            for k in ("name", "role", "company", "intro")))

    opening = check.text_list(raw, "opening", sid)

    concern = HiddenConcern("", "", ())
    raw_concern = check.mapping(raw, "hidden_concern", sid)
    if raw_concern is not None:
        check.unknown_fields(raw_concern, CONCERN_FIELDS, sid, "hidden_concern.")
        concern = HiddenConcern(
            check.text(raw_concern, "summary", sid, "hidden_concern."),
            check.text(raw_concern, "reveal", sid, "hidden_concern."),
            check.text_list(raw_concern, "keywords", sid, "hidden_concern."),
        )

    pushbacks = check.text_list(raw, "pushbacks", sid)
    concepts = tuple(Concept(pid, label, weight, aliases, try_text)
                     for _, pid, label, weight, aliases, try_text
                     in _points(check, raw, "concepts", sid, weighted=True))
    evidence = tuple(Evidence(pid, label, aliases, try_text)
                     for _, pid, label, _, aliases, try_text
                     in _points(check, raw, "evidence", sid, weighted=False))

    jargon: list[Jargon] = []
    for item in check.mappings(raw, "jargon", sid, minimum=0):
        check.unknown_fields(item, JARGON_FIELDS, sid, "jargon.")
        term = check.text(item, "term", sid, "jargon.")
        meaning = check.text(item, "meaning", sid, f"jargon[{term}]." if term else "jargon.")
        if term:
            jargon.append(Jargon(term, meaning))

    next_steps = check.text_list(raw, "next_steps", sid)

    model = ModelAnswers("", "", ())
    raw_model = check.mapping(raw, "model_answers", sid)
    if raw_model is not None:
        check.unknown_fields(raw_model, MODEL_FIELDS, sid, "model_answers.")
        model = ModelAnswers(
            check.text(raw_model, "opening", sid, "model_answers."),
            check.text(raw_model, "concern", sid, "model_answers."),
            check.text_list(raw_model, "pushbacks", sid, "model_answers."),
        )
        if pushbacks and model.pushbacks and len(model.pushbacks) != len(pushbacks):
            check.error(raw_model.line_of("pushbacks"), sid, "model_answers.pushbacks",
                        f"has {len(model.pushbacks)} answers for {len(pushbacks)} pushbacks "
                        f"(one per pushback, in the same order)")

    if "misconceptions" in raw:
        items = check.mappings(raw, "misconceptions", sid, minimum=0)
        built = build_misconceptions(check, items, topic=topic if topic in TOPICS else "",
                                     scenarios=(sid,) if sid else (), entry_ids=entry_ids,
                                     owner_id=sid or "?", verify=verify)
        if own is not None:
            own.extend(built)

    if not sid:
        return None
    return Scenario(
        id=sid, topic=topic, difficulty=difficulty, default=default, title=title,
        persona=persona, opening=opening, hidden_concern=concern, pushbacks=pushbacks,
        concepts=concepts, evidence=evidence, jargon=tuple(jargon), next_steps=next_steps,
        model_answers=model, file=check.file, line=raw.line,
    )


def _scenario_items(check: FieldChecker, path: Path) -> list[LineDict]:
    try:
        raw: Any = load_yaml(path)
    except YamlSyntaxError as exc:
        check.error(exc.line, "", "", exc.message)
        return []
    if raw is None:
        return []
    if not isinstance(raw, LineDict) or not isinstance(raw.get("scenarios"), list):
        check.error(getattr(raw, "line", 1) or 1, "", "scenarios",
                    "the file must be a mapping with a list 'scenarios'")
        return []
    items: list[LineDict] = []
    for item in raw["scenarios"]:
        if isinstance(item, LineDict):
            items.append(item)
        else:
            check.error(raw.line_of("scenarios"), "", "scenarios",
                        "each scenario must be a mapping")
    return items


def load_scenarios(root: Path, entry_ids: set[str] | frozenset[str] | None = None,
                   ) -> tuple[dict[str, Scenario], list[KnowledgeError]]:
    """Load every scenario under root/objections/*.yaml; problems come back as KnowledgeErrors.

    Each scenario carries the misconceptions that apply to it (see `load_roleplay`)."""
    scenarios, _, errors = load_roleplay(root, entry_ids)
    return scenarios, errors


def load_roleplay(root: Path, entry_ids: set[str] | frozenset[str] | None = None,
                  verify: bool = True,
                  ) -> tuple[dict[str, Scenario], dict[str, Misconception], list[KnowledgeError]]:
    """Scenarios (objections/*.yaml) and misconceptions (objections/misconceptions/*.yaml plus
    each scenario's own), validated; `entry_ids` are the knowledge entries a misconception's
    `entry` may name (None: not checked). Every scenario gets every topic-wide misconception,
    of all topics, plus those scoped to it. `verify` also runs the detector over every example,
    counterexample and model answer (what `knowledge check` does; a server skips it)."""
    errors: list[KnowledgeError] = []
    scenarios: dict[str, Scenario] = {}
    own: list[_Built] = []
    raws: dict[str, tuple[FieldChecker, LineDict]] = {}
    folder = root / "objections"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        errors.append(KnowledgeError(display_path(folder), 1, "", "scenarios",
                                     "no scenario files (objections/*.yaml) found"))
    first_file_of_topic: dict[str, str] = {}
    for path in files:
        check = FieldChecker(errors, str(path))
        if path.stem in TOPICS:
            first_file_of_topic.setdefault(path.stem, check.file)
        for raw in _scenario_items(check, path):
            scenario = _build(check, raw, path.stem, own, entry_ids, verify)
            if scenario is None:
                continue
            if scenario.id in scenarios:
                other = scenarios[scenario.id]
                check.error(raw.line_of("id"), scenario.id, "id",
                            f"duplicate id (first defined at {other.file}:{other.line})")
                continue
            scenarios[scenario.id] = scenario
            raws[scenario.id] = (check, raw)
            if scenario.topic in TOPICS:
                first_file_of_topic.setdefault(scenario.topic, scenario.file)

    for topic in TOPICS:
        of_topic = [s for s in scenarios.values() if s.topic == topic]
        defaults = [s for s in of_topic if s.default]
        if len(defaults) == 1:
            continue
        if not defaults:
            where = of_topic[0] if of_topic else None
            errors.append(KnowledgeError(
                where.file if where else first_file_of_topic.get(topic, display_path(folder)),
                where.line if where else 1, where.id if where else "", "default",
                f"topic '{topic}' needs exactly one scenario with 'default: true' (found none)"))
            continue
        first = defaults[0]
        for extra in defaults[1:]:
            errors.append(KnowledgeError(
                extra.file, extra.line, extra.id, "default",
                f"topic '{topic}' needs exactly one default scenario; "
                f"'{first.id}' ({first.file}:{first.line}) is already the default"))

    topic_wide = load_misconception_files(root, entry_ids, errors, verify)
    misconceptions = check_misconceptions(topic_wide + own, errors, scenario_ids=scenarios,
                                          verify=verify)
    for sid, scenario in list(scenarios.items()):
        scenario = replace(scenario, misconceptions=applicable(misconceptions.values(), sid))
        scenarios[sid] = scenario
        if verify:
            check, raw = raws[sid]
            _check_model_answers(check, raw, scenario)
    return scenarios, misconceptions, errors


def _check_model_answers(check: FieldChecker, raw: LineDict, scenario: Scenario) -> None:
    """A model answer must not state a misconception that applies to its scenario."""
    if not scenario.misconceptions:
        return
    raw_model = raw.get("model_answers")
    line = raw_model.line_of if isinstance(raw_model, LineDict) else (lambda _key: raw.line)
    model = scenario.model_answers
    answers = [("opening", model.opening), ("concern", model.concern)]
    answers += [("pushbacks", answer) for answer in model.pushbacks]
    for key, answer in answers:
        for finding in find_misconceptions(answer, scenario.misconceptions):
            check.error(line(key), scenario.id, f"model_answers.{key}",
                        f"states the misconception '{finding.misconception.id}' "
                        f"({finding.misconception.claim}): \"{finding.sentence}\"")


def default_scenario(scenarios: dict[str, Scenario], topic: str) -> Scenario | None:
    """The topic's default scenario (the one whose opening the evaluation sets answer)."""
    return next((s for s in scenarios.values() if s.topic == topic and s.default), None)


def pick_scenario(scenarios: dict[str, Scenario], topic: str,
                  difficulty: str | None = None) -> Scenario | None:
    """The scenario for `roleplay <topic> [difficulty]`: that difficulty if any, else the default."""
    if difficulty:
        match = next((s for s in sorted(scenarios.values(), key=lambda s: s.id)
                      if s.topic == topic and s.difficulty == difficulty), None)
        if match is not None:
            return match
    return default_scenario(scenarios, topic)
