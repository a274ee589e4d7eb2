"""Customer-objection role-play: scenarios from YAML and deterministic, explainable grading."""

from bot.roleplay.coaching import hint_lines
from bot.roleplay.grader import (
    Criterion,
    FalseClaim,
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
    "FalseClaim",
    "Grade",
    "HiddenConcern",
    "Jargon",
    "ModelAnswers",
    "Penalty",
    "Persona",
    "Scenario",
    "default_scenario",
    "grade",
    "hint_lines",
    "is_good_clarifying_question",
    "keep_start_stop",
    "load_scenarios",
    "pick_scenario",
    "raises_frustration",
]
