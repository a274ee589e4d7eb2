"""The question bank gives nothing away: answer lengths, true/false balance, absolute words, duplicates."""

from __future__ import annotations

import pytest

from adapters.cli import _print_check
from bot.knowledge import KnowledgeBase, Question
from bot.knowledge.bankstats import (
    FALSE_SHARE_BETWEEN,
    LONGEST_CORRECT_BELOW,
    bank_stats,
    correct_is_longest,
    has_absolute_word,
    near_duplicates,
    target_warnings,
)
from bot.knowledge.loader import coverage
from bot.knowledge.schema import Option


def _q(qid: str, kind: str, options: list[str], answer: tuple[int, ...], domain: str = "a",
       entry: str = "", prompt: str = "") -> Question:
    return Question(
        id=qid, kind=kind, section="S", difficulty=1, entry=entry or qid, domain=domain,
        prompt=prompt or f"Question {qid} asks about something different from every other one",
        options=tuple(Option(text, "why") for text in options), answer=answer, explanation="e")


def _tf(qid: str, statement: str, true: bool, domain: str = "a") -> Question:
    return _q(qid, "truefalse", ["True", "False"], (0,) if true else (1,), domain,
              prompt=f"True or false: {statement}")


# ------------------------------------------------------------------ the shipped bank


@pytest.fixture(scope="module")
def shipped(kb: KnowledgeBase) -> dict:
    return bank_stats(kb.questions.values(), [d.id for d in kb.domains])


def test_correct_option_is_rarely_the_longest_in_every_domain(shipped: dict) -> None:
    rows = shipped["longest_correct"]["domains"]
    over = {d: r["share"] for d, r in rows.items() if r["share"] is not None
            and r["share"] >= LONGEST_CORRECT_BELOW}
    assert over == {}
    assert shipped["longest_correct"]["share"] < LONGEST_CORRECT_BELOW
    assert shipped["longest_correct"]["within_target"]


def test_true_false_answers_are_balanced(shipped: dict) -> None:
    low, high = FALSE_SHARE_BETWEEN
    assert low <= shipped["truefalse_false"]["share"] <= high
    assert shipped["truefalse_false"]["within_target"]


def test_absolute_words_do_not_mark_wrong_options(shipped: dict) -> None:
    absolute = shipped["absolute_words"]
    assert absolute["correct"] > 0
    assert absolute["within_target"], absolute


def test_no_near_duplicate_questions(shipped: dict) -> None:
    assert shipped["near_duplicates"]["pairs"] == []


def test_the_shipped_bank_meets_every_target(shipped: dict) -> None:
    assert shipped["within_target"]
    assert target_warnings(shipped) == []


def test_every_section_keeps_at_least_four_questions(kb: KnowledgeBase) -> None:
    thin = {s.name: n for s in kb.sections
            if (n := sum(q.section == s.name for q in kb.questions.values())) < 4}
    assert thin == {}


def test_coverage_reports_the_bank_figures(kb: KnowledgeBase) -> None:
    bank = coverage(kb)["question_bank"]
    for figure in ("longest_correct", "truefalse_false", "absolute_words", "near_duplicates"):
        assert isinstance(bank[figure]["within_target"], bool), figure
    assert isinstance(bank["within_target"], bool)
    assert set(bank["longest_correct"]["domains"]) == {d.id for d in kb.domains}


# ------------------------------------------------------------------ the figures, by hand


def _tiny_bank() -> list[Question]:
    return [
        # single: correct strictly longest (domain a)
        _q("long", "single", ["the right and longest answer", "short", "shorter", "tiny"], (0,)),
        # single: correct ties for longest, so it does not count (domain a)
        _q("tie", "single", ["abcdef", "ghijkl", "mn", "op"], (0,)),
        # single: correct is the shortest (domain b)
        _q("short", "single", ["ok", "a longer wrong answer", "another wrong one", "third one"],
           (0,), domain="b"),
        # multiple: two absolute words, both in wrong options (domain b)
        _q("multi", "multiple", ["right one", "right two", "It always works", "None of them",
                                 "plain wrong"], (0, 1), domain="b"),
        _tf("tf-false", "AWS never changes anything.", False),
        _tf("tf-true", "Every Region has several Availability Zones.", True, domain="b"),
        _tf("tf-false-2", "A subnet spans two Availability Zones.", False, domain="b"),
    ]


def test_longest_and_shortest_on_a_tiny_bank() -> None:
    stats = bank_stats(_tiny_bank(), ["a", "b"])
    longest = stats["longest_correct"]
    assert (longest["questions"], longest["longest"], longest["shortest"]) == (3, 1, 1)
    assert longest["share"] == pytest.approx(0.333, abs=0.001)
    assert not longest["within_target"]
    assert longest["domains"]["a"] == {"questions": 2, "longest": 1, "share": 0.5,
                                       "shortest": 0, "within_target": False}
    assert longest["domains"]["b"]["share"] == 0.0
    assert longest["domains"]["b"]["within_target"]


def test_true_false_share_on_a_tiny_bank() -> None:
    false = bank_stats(_tiny_bank(), ["a", "b"])["truefalse_false"]
    assert (false["questions"], false["false"]) == (3, 2)
    assert false["share"] == pytest.approx(0.667, abs=0.001)
    assert not false["within_target"]
    assert false["domains"]["a"] == {"questions": 1, "false": 1, "share": 1.0}
    assert false["domains"]["b"] == {"questions": 2, "false": 1, "share": 0.5}


def test_absolute_words_on_a_tiny_bank() -> None:
    absolute = bank_stats(_tiny_bank(), ["a", "b"])["absolute_words"]
    # wrong: "It always works", "None of them", the false statement "AWS never changes anything";
    # correct: the true statement "Every Region has ..."
    assert (absolute["correct"], absolute["wrong"]) == (1, 3)
    assert absolute["correct_share"] == 0.25
    # choices: 4 + 4 + 4 options (3 right), 5 options (2 right), 3 statements (1 true) -> 6 / 20
    assert absolute["base_correct_share"] == 0.3
    assert absolute["within_target"]  # 0.25 >= 0.75 * 0.3
    assert absolute["domains"]["a"] == {"correct": 0, "wrong": 1}


def test_absolute_words_only_in_wrong_options_miss_the_target() -> None:
    bank = [_q("x", "single", ["right", "always wrong", "never right", "wrong"], (0,))]
    absolute = bank_stats(bank)["absolute_words"]
    assert (absolute["correct"], absolute["wrong"], absolute["within_target"]) == (0, 2, False)


def test_whole_words_only() -> None:
    assert has_absolute_word("It is ALWAYS on")
    assert not has_absolute_word("everything is allowed, nonetheless")
    assert correct_is_longest(_tiny_bank()[0])
    assert not correct_is_longest(_tiny_bank()[1])


def test_near_duplicates_by_prompt_and_by_entry() -> None:
    bank = [
        _q("multi-az-1", "truefalse", ["True", "False"], (1,), entry="rds-multi-az",
           prompt="True or false: in an RDS Multi-AZ DB instance deployment, the standby "
                  "serves read queries."),
        _q("multi-az-2", "truefalse", ["True", "False"], (1,), entry="design-for-failure",
           prompt="In an RDS Multi-AZ DB instance deployment, the standby also serves read "
                  "queries."),
        _q("tool-1", "single", ["AWS Well-Architected Tool", "AWS Config", "AWS CloudTrail",
                                "AWS Artifact"], (0,), entry="wa-tool",
           prompt="Which service lets a partner review a customer workload against best "
                  "practices, recording its risks and an improvement plan?"),
        _q("tool-2", "single", ["AWS Well-Architected Tool", "AWS Control Tower",
                                "AWS Trusted Advisor", "AWS Audit Manager"], (0,),
           entry="wa-review",
           prompt="A partner wants to review a production workload against best practices, "
                  "record the risks and track an improvement plan. Which tool should it use?"),
        _q("other", "single", ["AWS Well-Architected Tool", "Amazon S3", "Amazon EC2",
                               "AWS Lambda"], (1,), entry="s3",
           prompt="Where should a company keep billions of photos for its mobile app?"),
    ]
    pairs = {tuple(p["questions"]): p["rule"] for p in near_duplicates(bank)}
    assert pairs == {("multi-az-1", "multi-az-2"): "prompt",
                     ("tool-1", "tool-2"): "same entry or answer"}
    stats = bank_stats(bank)
    assert stats["near_duplicates"]["count"] == 2
    assert not stats["near_duplicates"]["within_target"]


def test_knowledge_check_prints_figures_and_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    kb = KnowledgeBase(sections=[], domains=[])
    kb.questions = {q.id: q for q in _tiny_bank()}
    assert _print_check(kb, as_json=False) == 0  # breaches are warnings, not errors
    out = capsys.readouterr().out
    block = out[out.index("question bank"):]
    assert "correct option strictly the longest" in block
    assert "true/false answered false" in block
    assert "warning: the correct option is strictly the longest in 50% of a" in block
    assert "warning: 67% of true/false questions are false" in block
