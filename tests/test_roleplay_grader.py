"""Role-play grading: ranks replies like a coach would, explains every point, never credits negation."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase
from bot.roleplay import (
    Grade,
    Scenario,
    default_scenario,
    grade,
    is_good_clarifying_question,
    keep_start_stop,
    load_scenarios,
    raises_frustration,
)
from bot.roleplay.grader import (
    ABSOLUTES,
    CONCEPTS,
    CONDENSE,
    CONNECT,
    CUSTOMER,
    DISMISSIVE,
    EVIDENCE,
    FORMER_NAME,
    JARGON,
    MONOLOGUE,
    NEXT_STEP,
)
from tests.conftest import DATA, KNOWLEDGE

DEV = Path("/work/shared/eval/roleplay_dev.tsv")
SETS = {"dev": DEV if DEV.exists() else DATA / "roleplay_dev.tsv",
        "extra": DATA / "roleplay_extra.tsv"}
TOPICS = ("security", "cost", "scalability")


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Scenario]:
    loaded, errors = load_scenarios(KNOWLEDGE)
    assert errors == []
    return loaded


@pytest.fixture(scope="module")
def security(scenarios: dict[str, Scenario]) -> Scenario:
    scenario = default_scenario(scenarios, "security")
    assert scenario is not None
    return scenario


@pytest.fixture(scope="module")
def cost(scenarios: dict[str, Scenario]) -> Scenario:
    scenario = default_scenario(scenarios, "cost")
    assert scenario is not None
    return scenario


@pytest.fixture(scope="module")
def scalability(scenarios: dict[str, Scenario]) -> Scenario:
    scenario = default_scenario(scenarios, "scalability")
    assert scenario is not None
    return scenario


def read_set(path: Path) -> list[tuple[str, int, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        topic, label, reply = line.split("\t")
        rows.append((topic, int(label), reply))
    return rows


# ---- ranking -----------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("name", sorted(SETS))
def test_replies_rank_strong_above_middling_above_weak(
    scenarios: dict[str, Scenario], name: str, topic: str
) -> None:
    scenario = default_scenario(scenarios, topic)
    assert scenario is not None
    scores: dict[int, list[int]] = {0: [], 1: [], 2: []}
    for row_topic, label, reply in read_set(SETS[name]):
        if row_topic == topic:
            scores[label].append(grade(reply, scenario).score)
    assert all(scores.values()), scores
    if name == "extra":
        assert all(len(v) >= 3 for v in scores.values()) and sum(map(len, scores.values())) >= 10
    # every strong reply beats every weak one, with a clear gap
    assert min(scores[2]) - max(scores[0]) >= 30, scores
    # and on average the labels are in order, with margin
    mean = {label: statistics.mean(values) for label, values in scores.items()}
    assert mean[2] - mean[1] >= 25, mean
    assert mean[1] - mean[0] >= 5, mean
    # strong replies land in the top bands
    assert min(scores[2]) >= 60, scores


def test_dev_strong_replies_earn_every_part_of_connect_condense_continue(
    scenarios: dict[str, Scenario],
) -> None:
    for topic, label, reply in read_set(SETS["dev"]):
        if label != 2:
            continue
        scenario = default_scenario(scenarios, topic)
        assert scenario is not None
        result = grade(reply, scenario)
        for name in (CONNECT, CONDENSE, CONCEPTS, NEXT_STEP):
            criterion = result.criterion(name)
            assert criterion.points == criterion.max, (topic, criterion)


# ---- negation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    "Your data is not encrypted at rest.",
    "Honestly, it is never encrypted.",
    "Encryption isn't needed for data like yours.",
    "You don't need encryption or access control for that.",
])
def test_negated_security_concepts_earn_nothing(security: Scenario, reply: str) -> None:
    result = grade(reply, security)
    assert result.criterion(CONCEPTS).points == 0, result.criterion(CONCEPTS)
    assert result.criterion(CONCEPTS).evidence == ()


def test_the_same_phrase_without_negation_earns_points(security: Scenario) -> None:
    result = grade("Your data is encrypted at rest.", security)
    assert result.criterion(CONCEPTS).points > 0
    assert result.criterion(CONCEPTS).evidence == ("encrypted",)
    not_only = grade("Not only is it encrypted, you also decide who can access it.", security)
    assert "encrypted" in not_only.criterion(CONCEPTS).evidence


@pytest.mark.parametrize("reply", [
    "There is no need for Auto Scaling here.",
    "You won't need Auto Scaling or load balancing for that.",
])
def test_negated_scalability_concepts_earn_nothing(scalability: Scenario, reply: str) -> None:
    assert grade(reply, scalability).criterion(CONCEPTS).points == 0


def test_negation_stops_at_the_end_of_its_clause(scalability: Scenario) -> None:
    result = grade("You won't lose orders, because Auto Scaling adds capacity.", scalability)
    assert "Auto Scaling" in result.criterion(CONCEPTS).evidence


def test_absence_phrases_written_as_aliases_still_count(cost: Scenario) -> None:
    result = grade("You no longer over-provision for the busiest week of the year.", cost)
    assert any("over-provision" in e for e in result.criterion(CONCEPTS).evidence)


# ---- penalties quote their words ----------------------------------------------------------------


def test_absolutes_and_dismissive_phrases_are_quoted(security: Scenario) -> None:
    reply = "Don't worry, it's definitely secure and guaranteed; everyone is moving."
    result = grade(reply, security)
    absolutes = result.penalty(ABSOLUTES)
    dismissive = result.penalty(DISMISSIVE)
    assert absolutes is not None and dismissive is not None
    assert absolutes.evidence == ("definitely", "guaranteed")
    assert absolutes.points == -12
    assert dismissive.evidence == ("Don't worry", "everyone is")
    assert any('"definitely"' in s and '"guaranteed"' in s for s in result.suggestions)
    for quoted in absolutes.evidence + dismissive.evidence:
        assert quoted in reply


def test_penalties_lower_the_score(security: Scenario) -> None:
    good = ("I understand. What worries you most about your customers' data? AWS secures the "
            "infrastructure and you keep control of your data.")
    clean, with_absolute = grade(good, security), grade(good + " It is 100% safe.", security)
    assert with_absolute.score < clean.score
    penalty = with_absolute.penalty(ABSOLUTES)
    assert penalty is not None and "100% safe" in penalty.evidence


def test_jargon_is_penalised_unless_spelled_out_or_used_by_the_customer(
    security: Scenario, scalability: Scenario
) -> None:
    bare = grade("We keep the keys in AWS KMS.", security)
    jargon = bare.penalty(JARGON)
    assert jargon is not None and jargon.evidence == ("KMS",)
    assert any("AWS Key Management Service" in s for s in bare.suggestions)

    spelled = grade("We keep the keys in AWS Key Management Service (KMS).", security)
    assert spelled.penalty(JARGON) is None
    assert spelled.score > bare.score

    heard = grade("We keep the keys in AWS KMS.", security,
                  customer_words="We already use KMS for some systems.")
    assert heard.penalty(JARGON) is None

    # an acronym that is not on the scenario's list is still jargon if the customer did not say it
    generic = grade("Put an ELB in front of it.", scalability).penalty(JARGON)
    assert generic is not None and generic.evidence == ("ELB",)
    explained = grade("Put Elastic Load Balancing (ELB) in front of it.", scalability)
    assert explained.penalty(JARGON) is None


def test_former_service_names_are_penalised_with_the_current_name(
    security: Scenario, kb: KnowledgeBase
) -> None:
    former = {old: entry.title for entry in kb.entries.values() for old in entry.former_names}
    reply = "Your staff would sign in once with AWS Single Sign-On."
    result = grade(reply, security, former_names=former)
    penalty = result.penalty(FORMER_NAME)
    assert penalty is not None
    assert penalty.evidence == ("AWS Single Sign-On",)  # the longest name, counted once
    assert any("IAM Identity Center" in s and "AWS Single Sign-On" in s
               for s in result.suggestions)
    current = grade(reply.replace("AWS Single Sign-On", "AWS IAM Identity Center"), security,
                    former_names=former)
    assert current.penalty(FORMER_NAME) is None


def test_monologue_is_penalised_with_its_length(security: Scenario) -> None:
    reply = "I understand. " + "AWS secures the infrastructure and you control your data. " * 15
    result = grade(reply, security)
    penalty = result.penalty(MONOLOGUE)
    assert penalty is not None and penalty.points < 0
    assert penalty.evidence[0].endswith("words")
    short = grade("I understand. AWS secures the infrastructure and you control your data.",
                  security)
    assert short.penalty(MONOLOGUE) is None


# ---- the three Cs, explained -------------------------------------------------------------------


def test_connect_quotes_the_acknowledgement_and_the_customers_words(security: Scenario) -> None:
    result = grade("That's a valid concern; your customers' trust matters.", security)
    connect = result.criterion(CONNECT)
    assert connect.points == connect.max
    assert "That's a valid concern" in connect.evidence
    assert {"customers", "trust"} <= set(connect.evidence)


def test_open_question_beats_closed_question(cost: Scenario) -> None:
    open_q = grade("What does your current spend include?", cost).criterion(CONDENSE)
    closed_q = grade("Is your current spend high?", cost).criterion(CONDENSE)
    none = grade("AWS is cheaper.", cost).criterion(CONDENSE)
    assert open_q.points == open_q.max
    assert 0 < closed_q.points < open_q.points
    assert none.points == 0
    assert open_q.evidence == ("What does your current spend include?",)


def test_a_proposal_is_a_next_step_not_a_clarifying_question(cost: Scenario) -> None:
    result = grade("Could we compare one workload together on Thursday?", cost)
    assert result.criterion(CONDENSE).points == 0
    step = result.criterion(NEXT_STEP)
    assert step.points == step.max
    assert step.evidence == ("Could we compare one workload together on Thursday?",)


@pytest.mark.parametrize("reply,expected", [
    ("What worries you most about your customers' data?", True),
    ("Tell me more about what your regulator asks for.", True),
    ("Can I ask which part concerns you most?", True),
    ("Is it the data location?", False),
    ("Do you encrypt your data today?", False),
    ("Could we meet on Thursday to review it?", False),
    ("Why would you not trust AWS?", False),
    ("AWS is secure.", False),
])
def test_is_good_clarifying_question(security: Scenario, reply: str, expected: bool) -> None:
    assert is_good_clarifying_question(reply, security) is expected


def test_evidence_figures_and_reference_customers(cost: Scenario) -> None:
    result = grade("GE Oil & Gas cut its total cost of ownership by 52 %.", cost)
    evidence = result.criterion(EVIDENCE)
    assert evidence.points == evidence.max
    assert "GE Oil & Gas" in evidence.evidence and "52 %" in evidence.evidence
    none = grade("It is cheaper.", cost).criterion(EVIDENCE)
    assert none.points == 0


def test_customer_centred_and_long_term_framing(scalability: Scenario) -> None:
    result = grade("Your customers and your team will feel it over time.", scalability)
    criterion = result.criterion(CUSTOMER)
    assert criterion.points == criterion.max
    assert "over time" in criterion.evidence
    assert grade("Servers scale.", scalability).criterion(CUSTOMER).points == 0


def test_concern_turn_reflects_the_revealed_concern(cost: Scenario) -> None:
    reply = "I understand; nobody wants to pay twice for servers you replaced."
    concern = grade(reply, cost, turn="concern").criterion(CONNECT)
    assert "twice" in concern.evidence and "replaced" in concern.evidence
    with pytest.raises(ValueError):
        grade(reply, cost, turn="epilogue")


# ---- suggestions and feedback ------------------------------------------------------------------


def test_every_missing_item_becomes_a_try_suggestion(security: Scenario) -> None:
    result = grade("I understand.", security)
    assert all(s.startswith("Try: ") for s in result.suggestions)
    text = "\n".join(result.suggestions)
    # Condense: an example question from the scenario's model answer
    assert "open question" in text and "What worries you most" in text
    # Continue: the heaviest missing concept's own hint, and the scenario's next step
    assert "shared responsibility model" in text
    assert security.next_steps[0] in text
    # evidence and customer framing
    assert "AWS Artifact" in text
    assert "your customers" in text
    # nothing missing -> no suggestion for that criterion
    assert "acknowledge the worry" not in text


def test_keep_start_stop_is_short_and_labelled(security: Scenario) -> None:
    result = grade("I understand, but it's definitely secure.", security)
    lines = keep_start_stop(result)
    assert 1 <= len(lines) <= 3
    assert [line.split(":")[0] for line in lines] == ["Keep", "Start", "Stop"]
    assert '"I understand"' in lines[0]
    assert '"definitely"' in lines[2]
    assert all(len(line) < 160 for line in lines)
    clean = keep_start_stop(grade("I understand.", security))
    assert [line.split(":")[0] for line in clean] == ["Keep", "Start", "Start"]


def test_raises_frustration_counts_customer_irritants(security: Scenario) -> None:
    calm = grade("I understand. What worries you most?", security)
    angry = grade("Don't worry, it's definitely safe with KMS.", security)
    assert raises_frustration(calm) == 0
    assert raises_frustration(angry) == 3


# ---- the scorecard -----------------------------------------------------------------------------


def test_json_shape_is_exactly_the_documented_one(security: Scenario) -> None:
    reply = "I understand. Security is never a problem with KMS."
    result = grade(reply, security)
    data = result.to_json()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"score", "band", "criteria", "penalties", "suggestions"}
    assert isinstance(data["score"], int) and isinstance(data["band"], str)
    criteria = data["criteria"]
    assert isinstance(criteria, list) and len(criteria) == 6
    for item in criteria:
        assert set(item) == {"name", "points", "max", "evidence"}
        assert isinstance(item["evidence"], list)
        assert 0 <= item["points"] <= item["max"]
    assert sum(item["max"] for item in criteria) == 100
    penalties = data["penalties"]
    assert isinstance(penalties, list)
    assert {p["rule"] for p in penalties} == {ABSOLUTES, JARGON}
    for item in penalties:
        assert set(item) == {"rule", "points", "evidence"} and item["points"] < 0
    assert isinstance(data["suggestions"], list) and data["suggestions"]


def test_score_is_the_clamped_sum_and_band_follows(security: Scenario) -> None:
    for reply in ("", "It's definitely, always, 100% guaranteed. Never a problem. Trust me.",
                  "I understand. What worries you most?"):
        result: Grade = grade(reply, security)
        total = sum(c.points for c in result.criteria) + sum(p.points for p in result.penalties)
        assert result.score == max(0, min(100, total))
        expected = ("Excellent" if result.score >= 85 else "Strong" if result.score >= 70
                    else "Developing" if result.score >= 50 else "Needs work")
        assert result.band == expected
    assert grade("", security).score == 0


def test_grading_is_deterministic(security: Scenario) -> None:
    reply = read_set(SETS["dev"])[0][2]
    assert grade(reply, security) == grade(reply, security)
