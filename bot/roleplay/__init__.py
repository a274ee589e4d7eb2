"""Customer-objection role-play: scenarios from YAML and deterministic, explainable grading."""

from bot.roleplay.grader import (
    Criterion,
    Grade,
    Penalty,
    grade,
    is_good_clarifying_question,
    keep_start_stop,
    raises_frustration,
)
from bot.roleplay.scenarios import (
    DIFFICULTIES,
    TOPICS,
    Concept,
    Evidence,
    HiddenConcern,
    Jargon,
    ModelAnswers,
    Persona,
    Scenario,
    default_scenario,
    load_scenarios,
    pick_scenario,
)

__all__ = [
    "DIFFICULTIES",
    "TOPICS",
    "Concept",
    "Criterion",
    "Evidence",
    "Grade",
    "HiddenConcern",
    "Jargon",
    "ModelAnswers",
    "Penalty",
    "Persona",
    "Scenario",
    "default_scenario",
    "grade",
    "is_good_clarifying_question",
    "keep_start_stop",
    "load_scenarios",
    "pick_scenario",
    "raises_frustration",
]
