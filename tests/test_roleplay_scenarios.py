"""Objection scenarios: the shipped ones are complete and correct; broken ones are reported precisely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase
from bot.roleplay import (
    DIFFICULTIES,
    TOPICS,
    Scenario,
    default_scenario,
    grade,
    load_scenarios,
    pick_scenario,
)
from bot.roleplay.grader import ABSOLUTES, DISMISSIVE, JARGON
from tests.conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def shipped() -> dict[str, Scenario]:
    scenarios, errors = load_scenarios(KNOWLEDGE)
    assert [str(e) for e in errors] == []
    return scenarios


# ---- the shipped scenarios ---------------------------------------------------------------------


def test_every_topic_has_easy_medium_and_hard_and_one_default(shipped: dict[str, Scenario]) -> None:
    for topic in TOPICS:
        of_topic = [s for s in shipped.values() if s.topic == topic]
        assert len(of_topic) >= 3, topic
        assert {s.difficulty for s in of_topic} == set(DIFFICULTIES), topic
        defaults = [s for s in of_topic if s.default]
        assert len(defaults) == 1, topic
        assert defaults[0].difficulty == "medium"
        assert default_scenario(shipped, topic) is defaults[0]


def test_default_openings_are_the_objections_the_evaluation_sets_answer(
    shipped: dict[str, Scenario],
) -> None:
    security = default_scenario(shipped, "security")
    cost = default_scenario(shipped, "cost")
    scalability = default_scenario(shipped, "scalability")
    assert security and cost and scalability
    assert re.search(r"customer", security.opening_line) and "trust" in security.opening_line
    assert "data" in security.opening_line
    assert "expensive" in cost.opening_line and "justify" in cost.opening_line
    assert "peak" in scalability.opening_line and "sales event" in scalability.opening_line


def test_pick_scenario_by_difficulty_falls_back_to_the_default(
    shipped: dict[str, Scenario],
) -> None:
    hard = pick_scenario(shipped, "cost", "hard")
    assert hard is not None and hard.topic == "cost" and hard.difficulty == "hard"
    assert pick_scenario(shipped, "cost") is default_scenario(shipped, "cost")
    assert pick_scenario(shipped, "cost", "impossible") is default_scenario(shipped, "cost")
    assert pick_scenario(shipped, "weather") is None


def _model_turns(scenario: Scenario) -> list[tuple[str, str, str]]:
    turns = [("opening", scenario.model_answers.opening, ""),
             ("concern", scenario.model_answers.concern, "")]
    turns += [("pushback", answer, f"{scenario.opening_line} {pushback}")
              for pushback, answer in zip(scenario.pushbacks, scenario.model_answers.pushbacks,
                                          strict=True)]
    return turns


def test_model_answers_score_strong_with_no_penalties(shipped: dict[str, Scenario]) -> None:
    """The example answers the bot shows must pass its own grading: no do-nots, 70+."""
    for scenario in shipped.values():
        for turn, answer, words in _model_turns(scenario):
            result = grade(answer, scenario, turn, words)
            where = f"{scenario.id} {turn}: {answer[:60]}"
            assert result.penalties == (), (where, result.penalties)
            assert result.score >= 70, (where, result.score, result.criteria)


def test_suggestions_do_not_teach_penalised_language(shipped: dict[str, Scenario]) -> None:
    """A learner who copies a 'Try:' hint must not lose points for absolutes, jargon or dismissal."""
    for scenario in shipped.values():
        hints = [c.try_text for c in scenario.concepts] + [e.try_text for e in scenario.evidence]
        hints += list(scenario.next_steps)
        for hint in hints:
            rules = {p.rule for p in grade(hint, scenario).penalties}
            assert not rules & {ABSOLUTES, DISMISSIVE, JARGON}, (scenario.id, hint, rules)


def test_scenarios_use_current_service_names(shipped: dict[str, Scenario],
                                             kb: KnowledgeBase) -> None:
    former = {name for entry in kb.entries.values() for name in entry.former_names}
    assert "AWS Single Sign-On" in former
    for scenario in shipped.values():
        texts = [scenario.title, *scenario.opening, scenario.hidden_concern.reveal,
                 scenario.model_answers.opening, scenario.model_answers.concern,
                 *scenario.model_answers.pushbacks, *scenario.next_steps]
        texts += [c.try_text for c in scenario.concepts] + [e.try_text for e in scenario.evidence]
        for text in texts:
            for name in former:
                assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text,
                                     re.IGNORECASE), (scenario.id, name, text)


def test_hidden_concern_is_not_given_away_in_the_opening(shipped: dict[str, Scenario]) -> None:
    for scenario in shipped.values():
        for opening in scenario.opening:
            assert scenario.hidden_concern.reveal not in opening
        assert len(scenario.model_answers.pushbacks) == len(scenario.pushbacks)


# ---- broken files ------------------------------------------------------------------------------

VALID = """\
  - id: {id}
    topic: {topic}
    difficulty: {difficulty}
    default: {default}
    title: A test customer
    persona:
      name: Test Person
      role: Tester
      company: Test Ltd
      intro: Exists for tests.
    opening:
      - I am worried about my data.
    hidden_concern:
      summary: The audit.
      reveal: It is the audit.
      keywords: [audit]
    pushbacks:
      - That's what every vendor says.
    concepts:
      - id: encryption
        label: Encryption
        weight: {weight}
        aliases: [encrypt]
        try: mention encryption.
    evidence:
      - id: artifact
        label: AWS Artifact
        aliases: [AWS Artifact]
        try: mention AWS Artifact.
    jargon:
      - term: KMS
        meaning: AWS Key Management Service
    next_steps:
      - Could we meet on Thursday?
    model_answers:
      opening: I understand. What worries you most?
      concern: That makes sense. Which audit is next?
      pushbacks:
        - Fair point. What proof would help?
"""


def scenario_yaml(id: str = "sec-one", topic: str = "security", difficulty: str = "medium",
                  default: str = "true", weight: str = "2") -> str:
    return VALID.format(id=id, topic=topic, difficulty=difficulty, default=default, weight=weight)


def write(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "knowledge" / "objections"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "knowledge"


def only_security(tmp_path: Path, body: str) -> Path:
    """A knowledge folder whose cost and scalability files are valid, and security is `body`."""
    return write(
        tmp_path,
        security=body,
        cost="scenarios:\n" + scenario_yaml("cost-one", "cost"),
        scalability="scenarios:\n" + scenario_yaml("scale-one", "scalability"),
    )


def line_of(text: str, needle: str, start: int = 0) -> int:
    lines = text.splitlines()
    return next(i for i, line in enumerate(lines, start=1) if i > start and needle in line)


def test_a_valid_set_loads_without_errors(tmp_path: Path) -> None:
    root = only_security(tmp_path, "scenarios:\n" + scenario_yaml())
    scenarios, errors = load_scenarios(root)
    assert errors == []
    one = scenarios["sec-one"]
    assert one.persona.name == "Test Person"
    assert one.concepts[0].weight == 2 and one.concepts[0].try_text == "mention encryption."
    assert one.jargon[0].term == "KMS"
    assert one.file.endswith("security.yaml") and one.line == 2


def test_missing_nested_field_names_file_line_id_and_field(tmp_path: Path) -> None:
    body = "scenarios:\n" + scenario_yaml().replace("      name: Test Person\n", "")
    errors = load_scenarios(only_security(tmp_path, body))[1]
    [error] = errors
    assert error.file.endswith("security.yaml")
    assert error.item_id == "sec-one"
    assert error.field == "persona.name"
    assert error.line == line_of(body, "role: Tester")
    assert "required" in error.message


def test_unknown_topic_difficulty_and_field(tmp_path: Path) -> None:
    body = "scenarios:\n" + scenario_yaml(topic="weather", difficulty="brutal").replace(
        "    title: A test customer\n", "    title: A test customer\n    colour: blue\n")
    errors = load_scenarios(only_security(tmp_path, body))[1]
    by_field = {e.field: e for e in errors}
    assert by_field["topic"].line == line_of(body, "topic: weather")
    assert "unknown topic 'weather'" in by_field["topic"].message
    assert by_field["difficulty"].line == line_of(body, "difficulty: brutal")
    assert "easy, medium, hard" in by_field["difficulty"].message
    assert by_field["colour"].line == line_of(body, "colour: blue")
    assert all(e.item_id == "sec-one" for e in errors if e.field != "default")
    # the broken scenario is not a security scenario, so security has no default any more
    assert "topic 'security' needs exactly one" in by_field["default"].message


@pytest.mark.parametrize("weight", ["0", "4", "high", "2.5"])
def test_weight_out_of_range_is_reported(tmp_path: Path, weight: str) -> None:
    body = "scenarios:\n" + scenario_yaml(weight=weight)
    [error] = load_scenarios(only_security(tmp_path, body))[1]
    assert error.field == "concepts[encryption].weight"
    assert error.line == line_of(body, f"weight: {weight}")
    assert error.item_id == "sec-one"
    assert "1 to 3" in error.message


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        security="scenarios:\n" + scenario_yaml("same-id"),
        cost="scenarios:\n" + scenario_yaml("same-id", "cost"),
        scalability="scenarios:\n" + scenario_yaml("scale-one", "scalability"),
    )
    scenarios, errors = load_scenarios(root)
    dup = [e for e in errors if e.field == "id"]
    assert len(dup) == 1
    assert dup[0].item_id == "same-id"
    # files load in name order, so cost.yaml defines it first and security.yaml repeats it
    assert dup[0].file.endswith("security.yaml") and dup[0].line == 2
    assert "duplicate id" in dup[0].message and "cost.yaml:2" in dup[0].message
    assert scenarios["same-id"].topic == "cost"


def test_two_defaults_and_no_default(tmp_path: Path) -> None:
    security = "scenarios:\n" + scenario_yaml("sec-one") + scenario_yaml("sec-two",
                                                                         difficulty="hard")
    cost = "scenarios:\n" + scenario_yaml("cost-one", "cost", default="false")
    root = write(tmp_path, security=security, cost=cost,
                 scalability="scenarios:\n" + scenario_yaml("scale-one", "scalability"))
    errors = load_scenarios(root)[1]
    assert {(e.item_id, e.field) for e in errors} == {("sec-two", "default"),
                                                      ("cost-one", "default")}
    two = next(e for e in errors if e.item_id == "sec-two")
    assert two.file.endswith("security.yaml")
    assert two.line == line_of(security, "id: sec-two")
    assert "'sec-one'" in two.message
    none = next(e for e in errors if e.item_id == "cost-one")
    assert none.file.endswith("cost.yaml") and "found none" in none.message


def test_topic_must_match_its_file(tmp_path: Path) -> None:
    body = "scenarios:\n" + scenario_yaml("sec-one") + scenario_yaml("cost-two", "cost",
                                                                      default="false")
    errors = load_scenarios(only_security(tmp_path, body))[1]
    [error] = errors
    assert (error.item_id, error.field) == ("cost-two", "topic")
    assert error.line == line_of(body, "topic: cost")
    assert "security.yaml" in error.message


def test_pushback_answers_must_match_pushbacks(tmp_path: Path) -> None:
    body = "scenarios:\n" + scenario_yaml().replace(
        "      - That's what every vendor says.\n",
        "      - That's what every vendor says.\n      - Too expensive.\n")
    [error] = load_scenarios(only_security(tmp_path, body))[1]
    assert error.field == "model_answers.pushbacks"
    assert error.line == line_of(body, "pushbacks:", start=line_of(body, "model_answers"))
    assert "1 answers for 2 pushbacks" in error.message


def test_wrong_types_are_reported(tmp_path: Path) -> None:
    body = "scenarios:\n" + scenario_yaml(default="maybe").replace(
        "    opening:\n      - I am worried about my data.\n", "    opening: I am worried.\n")
    errors = load_scenarios(only_security(tmp_path, body))[1]
    fields = {e.field: e for e in errors if e.item_id == "sec-one" and "found none" not in e.message}
    assert fields["opening"].line == line_of(body, "opening: I am worried.")
    assert "list" in fields["opening"].message
    assert fields["default"].line == line_of(body, "default: maybe")
    assert "true or false" in fields["default"].message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    body = "scenarios:\n  - id: broken\n    title: [unclosed\n    topic: security\n"
    errors = load_scenarios(only_security(tmp_path, body))[1]
    syntax = [e for e in errors if "invalid YAML" in e.message]
    assert len(syntax) == 1
    assert syntax[0].file.endswith("security.yaml")
    assert syntax[0].line >= 3


def test_file_without_scenarios_list(tmp_path: Path) -> None:
    errors = load_scenarios(only_security(tmp_path, "entries: []\n"))[1]
    assert any(e.field == "scenarios" and e.file.endswith("security.yaml") for e in errors)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    scenarios, errors = load_scenarios(tmp_path)
    assert scenarios == {}
    assert errors and "no scenario files" in errors[0].message
