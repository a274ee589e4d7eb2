"""Role-play grading: ranks replies like a coach would, explains every point, never credits negation."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase
from bot.roleplay import (
    Grade,
    Scenario,
    default_scenario,
    grade,
    hint_lines,
    is_good_clarifying_question,
    keep_start_stop,
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
    FALSE_CLAIM,
    FORMER_NAME,
    JARGON,
    KEYWORDS,
    MAXIMA,
    MONOLOGUE,
    NEXT_STEP,
    REPETITION,
    TURNS,
)
from bot.roleplay.misconceptions import find_misconceptions
from tests.conftest import DATA

DEV = Path("/work/shared/eval/roleplay_dev.tsv")
SETS = {"dev": DEV if DEV.exists() else DATA / "roleplay_dev.tsv",
        "extra": DATA / "roleplay_extra.tsv"}
TOPICS = ("security", "cost", "scalability")


@pytest.fixture(scope="module")
def scenarios(kb: KnowledgeBase) -> dict[str, Scenario]:
    assert kb.scenarios, "the shipped knowledge base has role-play scenarios"
    return kb.scenarios


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
    reply = "Your team could keep its audit logs in Amazon Elasticsearch Service for a year."
    result = grade(reply, security, former_names=former)
    penalty = result.penalty(FORMER_NAME)
    assert penalty is not None
    assert penalty.evidence == ("Amazon Elasticsearch Service",)  # the longest name, counted once
    assert any("OpenSearch" in s and "Amazon Elasticsearch Service" in s
               for s in result.suggestions)
    current = grade(reply.replace("Amazon Elasticsearch Service", "Amazon OpenSearch Service"),
                    security, former_names=former)
    assert current.penalty(FORMER_NAME) is None
    assert current.score > result.score


def test_a_retired_name_presented_as_current_is_a_false_claim_named_once(
    security: Scenario, kb: KnowledgeBase
) -> None:
    former = {old: entry.title for entry in kb.entries.values() for old in entry.former_names}
    reply = "Your staff would sign in once with AWS Single Sign-On."
    result = grade(reply, security, former_names=former)
    wrong = result.penalty(FALSE_CLAIM) or result.penalty(FORMER_NAME)
    assert wrong is not None and "AWS Single Sign-On" in " ".join(wrong.evidence)
    assert any("IAM Identity Center" in s for s in result.suggestions)
    # the same words are not charged twice under two rules
    assert not (result.penalty(FALSE_CLAIM) and result.penalty(FORMER_NAME))


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
    assert all(len(line) <= 220 for line in lines)  # a false claim's Stop line adds its fact
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
    assert set(data) == {"score", "band", "criteria", "penalties", "suggestions", "misconceptions"}
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
    assert {p["rule"] for p in penalties} >= {ABSOLUTES, JARGON}
    for item in penalties:
        assert set(item) == {"rule", "points", "evidence"} and item["points"] < 0
    assert isinstance(data["suggestions"], list) and data["suggestions"]
    assert data["misconceptions"] == []


def test_score_is_the_clamped_sum_and_band_follows(security: Scenario) -> None:
    for reply in ("", "It's definitely, always, 100% guaranteed. Never a problem. Trust me.",
                  "I understand. What worries you most?"):
        for turn in TURNS:
            result: Grade = grade(reply, security, turn)
            total = sum(c.points for c in result.criteria) + sum(
                p.points for p in result.penalties)
            assert result.score == max(0, min(100, total))
            assert sum(c.max for c in result.criteria) == 100
            expected = ("Excellent" if result.score >= 85 else "Strong" if result.score >= 70
                        else "Developing" if result.score >= 50 else "Needs work")
            assert result.band == expected
    assert grade("", security).score == 0


def test_grading_is_deterministic(security: Scenario) -> None:
    reply = read_set(SETS["dev"])[0][2]
    assert grade(reply, security) == grade(reply, security)


# ---- sentences, not keywords -------------------------------------------------------------------

FRAGMENTS = ("Fair point. Which data worries you? Encryption. Shared responsibility. Artifact. "
             "Other banks. Your customers. Your team. Long term. Could we review your checklist "
             "next week?")
SENTENCES = ("Fair point. Which data worries you? Your data is encrypted with keys you control. "
             "Under the shared responsibility model AWS secures the infrastructure. Other banks "
             "already work this way, and the audit reports are in AWS Artifact. Your customers "
             "and your team keep that protection over the long term. Could we review your "
             "checklist next week?")


def test_fragments_and_keyword_lists_earn_nothing(security: Scenario) -> None:
    listed = grade(FRAGMENTS, security)
    for name in (CONCEPTS, EVIDENCE):
        assert listed.criterion(name).points == 0, listed.criterion(name)
    penalty = listed.penalty(KEYWORDS)
    assert penalty is not None and "Shared responsibility" in penalty.evidence
    assert listed.score < 50, listed
    # the same ideas said in sentences earn their credit, quoted
    said = grade(SENTENCES, security)
    assert said.criterion(CONCEPTS).points > 0 and said.criterion(EVIDENCE).points > 0
    assert said.penalty(KEYWORDS) is None
    assert said.score >= listed.score + 30


@pytest.mark.parametrize("reply", [
    "Shared responsibility / encryption / IAM Identity Center / CloudTrail / Artifact / SOC 2.",
    "#SharedResponsibility #Encryption #AuditTrail #OtherBanks",
    "Encryption.",
    "Encryption, access control, audit trail, compliance, other banks, SOC 2.",
    "\u2714 I understand \u2714 shared responsibility \u2714 encryption \u2714 audit trail "
    "\u2714 other banks",
])
def test_a_concept_named_without_a_sentence_is_not_an_explanation(
    security: Scenario, reply: str
) -> None:
    result = grade(reply, security)
    assert result.criterion(CONCEPTS).points == 0, result.criterion(CONCEPTS)
    assert result.criterion(EVIDENCE).points == 0


def test_an_enumeration_inside_a_sentence_still_counts(cost: Scenario) -> None:
    result = grade("A fair comparison counts the whole cost: power, space, maintenance and "
                   "staff time.", cost)
    assert result.criterion(CONCEPTS).points > 0
    assert result.penalty(KEYWORDS) is None


def test_repeated_sentences_count_once_and_padding_costs(security: Scenario) -> None:
    point = ("AWS secures the infrastructure and you keep control of your data, so your "
             "customers stay protected over time.")
    once = f"I understand. What worries you most about your customers' data? {point}"
    eight = once + (" " + point) * 7
    single, repeated = grade(once, security), grade(eight, security)
    # the repeats earn nothing more ...
    for name in (CONNECT, CONDENSE, CONCEPTS, EVIDENCE, CUSTOMER):
        assert repeated.criterion(name).points == single.criterion(name).points, name
    # ... and cost points, quoting the sentence
    penalty = repeated.penalty(REPETITION)
    assert penalty is not None and penalty.evidence[0] == point and penalty.points <= -20
    assert repeated.score <= single.score - 20
    assert any("7 times" in s or "8 times" in s for s in repeated.suggestions)


def test_filler_padding_is_a_repetition_penalty(cost: Scenario) -> None:
    reply = ("Basically, at the end of the day, you pay for what you use. Basically that is the "
             "point, at the end of the day. And basically, at the end of the day, the board "
             "will see it is cheaper, basically, because at the end of the day the cloud way is "
             "basically paying as you go, at the end of the day.")
    penalty = grade(reply, cost).penalty(REPETITION)
    assert penalty is not None
    assert {"basically", "at the end of the day"} <= {e.lower() for e in penalty.evidence}


# ---- natural language --------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    "Totally get it.", "Makes sense.", "Completely fair.", "That's a reasonable worry.",
    "You're right to push on that.", "I'd be nervous too.", "Understood, and it matters.",
    "I hear you.", "Fair question.", "It's natural to worry about that.",
])
def test_natural_acknowledgements_earn_connect(security: Scenario, reply: str) -> None:
    connect = grade(reply, security).criterion(CONNECT)
    assert connect.points >= 12, (reply, connect)


@pytest.mark.parametrize("reply", [
    "Shall I set up a session with your team on Tuesday?",
    "Can I book 30 minutes with your finance team next week?",
    "How about we walk through your last audit findings together on Thursday?",
    "Would it help if I brought one of our architects to your planning meeting?",
    "Let's compare one workload side by side with your finance team next week.",
    "I'll send the reports today, and we can review them with your risk team.",
    "Want me to draft a test plan for your review by Friday?",
    "Would a short workshop with your architects be a useful next step?",
    "I'd suggest a one-day proof of concept with your security team this month.",
])
def test_next_steps_are_recognised_by_what_the_sentence_does(
    security: Scenario, reply: str
) -> None:
    step = grade(reply, security).criterion(NEXT_STEP)
    assert step.points == step.max, (reply, step)
    assert step.evidence == (reply,)


@pytest.mark.parametrize("reply,most", [
    ("Next step POC", 0),
    ("Next step: workshop, Tuesday, your team.", 0),
    ("Let's talk.", 8),
    ("We can add servers automatically when traffic grows.", 0),
])
def test_words_that_only_sound_like_a_next_step_earn_little(
    security: Scenario, reply: str, most: int
) -> None:
    assert grade(reply, security).criterion(NEXT_STEP).points <= most


# ---- a turn of a conversation ------------------------------------------------------------------


@pytest.mark.parametrize("turn,reply", [
    ("concern", "That makes sense. Which people need to see customer data, and from where?"),
    ("concern", "Which part of the regulator's question is hardest to answer today?"),
    ("pushback", "Fair enough. What proof would your regulator accept?"),
])
def test_a_good_clarifying_question_alone_is_a_good_turn_later_in_the_meeting(
    security: Scenario, turn: str, reply: str
) -> None:
    words = security.pushbacks[2] if turn == "pushback" else ""
    result = grade(reply, security, turn, words)
    assert result.score >= 70, result
    assert result.criterion(CONDENSE).points == result.criterion(CONDENSE).max
    # the full frame still applies to the first answer to the objection
    assert grade(reply, security, "opening").score < 70
    # and the coaching says what to do once the customer answers
    assert any("once they answer" in s for s in result.suggestions)


# ---- do-nots -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    "Your view is outdated.", "You are mistaken about the cloud.",
    "Those reports are a bit behind the times.", "That worry will fade once you're in.",
    "I'd park the security question for now.", "Honestly, I wouldn't lose any sleep over it.",
])
def test_dismissive_judgements_are_penalised_and_not_customer_centred(
    security: Scenario, reply: str
) -> None:
    result = grade(reply, security)
    assert result.penalty(DISMISSIVE) is not None, reply
    assert result.criterion(CUSTOMER).points == 0
    assert result.score == 0
    assert not [line for line in keep_start_stop(result) if line.startswith("Keep:")]


def test_a_penalised_word_earns_no_credit(cost: Scenario, security: Scenario) -> None:
    result = grade("Your TCO goes down over time.", cost)
    jargon = result.penalty(JARGON)
    assert jargon is not None and "TCO" in jargon.evidence
    assert "TCO" not in result.criterion(CONCEPTS).evidence
    assert not any("TCO" in line for line in keep_start_stop(result) if line.startswith("Keep"))
    spelled = grade("Your total cost of ownership (TCO) goes down over time.", cost)
    assert spelled.penalty(JARGON) is None and spelled.criterion(CONCEPTS).points > 0
    # "always-on" is a kind of system, not an absolute
    assert grade("Commit your always-on systems to a Savings Plan.", cost).penalty(
        ABSOLUTES) is None


# ---- coaching ----------------------------------------------------------------------------------


def test_coaching_never_suggests_what_the_grader_penalises(
    scenarios: dict[str, Scenario],
) -> None:
    irritants = {ABSOLUTES, DISMISSIVE, JARGON}
    for scenario in scenarios.values():
        lines = [("opening", scenario.opening_line), ("concern", scenario.hidden_concern.reveal)]
        lines += [("pushback", p) for p in scenario.pushbacks]
        checked: set[str] = set()
        for turn, line in lines:
            # an empty reply collects every suggestion of the turn; the customer's line may be
            # full of "always" and "never" ("Your savings figures always assume ...")
            result = grade("", scenario, turn, line)
            advice = [*result.suggestions, *hint_lines(scenario, turn, line)]
            for text in advice:
                if text in checked:
                    continue
                checked.add(text)
                rules = {p.rule for p in grade(text, scenario, turn, line).penalties}
                assert not rules & irritants, (scenario.id, turn, text, rules)
            reflect = [s for s in result.suggestions if "own words" in s]
            for absolute in ("always", "never", "guaranteed", "definitely"):
                assert not any(f'"{absolute}"' in s.lower() for s in reflect), reflect


def test_concern_turn_feedback_addresses_the_revealed_concern(
    scenarios: dict[str, Scenario],
) -> None:
    for scenario in scenarios.values():
        result = grade("I understand, thanks for telling me.", scenario, "concern")
        start = next(line for line in keep_start_stop(result) if line.startswith("Start:"))
        assert "concern" in start and any(k in start for k in scenario.hidden_concern.keywords), \
            (scenario.id, start)


def test_hints_are_about_this_scenario_and_this_turn(scenarios: dict[str, Scenario]) -> None:
    seen: dict[str, list[str]] = {}
    for scenario in scenarios.values():
        turns = [hint_lines(scenario, "opening", scenario.opening_line),
                 hint_lines(scenario, "concern", scenario.hidden_concern.reveal)]
        turns += [hint_lines(scenario, "pushback", p) for p in scenario.pushbacks[:2]]
        for lines in turns:
            assert 2 <= len(lines) <= 3, lines
            text = " ".join(lines)
            assert any(step in text for step in scenario.next_steps), text
        assert len({tuple(lines) for lines in turns}) == len(turns), scenario.id
        concern = " ".join(turns[1])
        assert any(c.try_text in concern for c in scenario.concepts)
        seen[scenario.id] = turns[0]
    assert len({tuple(v) for v in seen.values()}) == len(seen), "every scenario has its own hint"


def test_feedback_lines_are_not_cut_mid_word(security: Scenario) -> None:
    long_reply = ("I understand that the question of trust for a bank with two million "
                  "customers is enormously consequential and deserves extraordinarily careful "
                  "consideration. " * 2)
    for reply in (long_reply, "I understand.", FRAGMENTS):
        source = grade(reply, security)
        lines = keep_start_stop(source)
        pool = " ".join([reply, *source.suggestions, *(e for c in source.criteria
                                                       for e in c.evidence),
                         *(e for p in source.penalties for e in p.evidence)])
        vocabulary = set(re.findall(r"[\w'-]+", pool))
        for line in lines:
            if "\u2026" in line:
                before = line.split("\u2026")[0]
                last = re.findall(r"[\w'-]+", before)[-1]
                assert last in vocabulary, (last, line)


# ---- false claims ------------------------------------------------------------------------------


def _stated(scenario: Scenario) -> tuple[str, str]:
    """An example false claim of the scenario that the detector finds, and its id."""
    for misconception in scenario.misconceptions:
        for example in misconception.examples:
            found = find_misconceptions(example, scenario.misconceptions)
            if found and found[0].misconception is misconception:
                return example, misconception.id
    pytest.fail(f"{scenario.id} has no detectable misconception")


def test_a_false_claim_caps_the_grade_below_strong_and_names_the_fact(
    security: Scenario,
) -> None:
    strong = next(reply for topic, label, reply in read_set(SETS["dev"])
                  if topic == "security" and label == 2)
    claim, claim_id = _stated(security)
    clean, wrong = grade(strong, security), grade(f"{strong} {claim}", security)
    assert clean.score >= 70 and not clean.misconceptions
    assert wrong.score <= 69 and wrong.band in ("Developing", "Needs work")
    penalty = wrong.penalty(FALSE_CLAIM)
    assert penalty is not None and -penalty.points > max(MAXIMA.values())
    assert penalty.evidence == (claim,)
    [found] = wrong.misconceptions
    assert found.id == claim_id and found.sentence == claim
    assert wrong.to_json()["misconceptions"] == [
        {"id": found.id, "claim": found.claim, "fact": found.fact, "entry": found.entry,
         "sentence": claim}]
    stop = keep_start_stop(wrong)[-1]
    assert stop.startswith("Stop: false claim") and f"read: {found.entry}" in stop
    assert found.fact[:30] in stop
    assert raises_frustration(wrong) >= 1


def test_the_sentence_stating_a_false_claim_earns_no_concept_credit(security: Scenario) -> None:
    claim, _ = _stated(security)
    result = grade(claim, security)
    assert result.criterion(CONCEPTS).points == 0, (claim, result.criterion(CONCEPTS))
    assert result.criterion(EVIDENCE).points == 0
