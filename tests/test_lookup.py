"""Lookup quality on the development sets, and the behaviours a learner relies on."""

from __future__ import annotations

from bot.evaluation import evaluate, read_cases
from bot.knowledge import KnowledgeBase
from bot.lookup import Lookup, stem, strip_question
from tests.conftest import DATA


def test_development_set_quality(kb: KnowledgeBase) -> None:
    lookup = Lookup(kb.entries.values())
    for path in sorted(DATA.glob("lookup_*.tsv")):
        outcome = evaluate(lookup, read_cases(path))
        report = "\n".join(outcome.failures)
        assert outcome.top1_rate >= 0.90, f"{path.name} top-1 {outcome.top1_rate:.0%}\n{report}"
        assert outcome.top3_rate >= 0.97, f"{path.name} top-3 {outcome.top3_rate:.0%}\n{report}"
        assert outcome.junk_rejected == outcome.junk, f"{path.name}\n{report}"


def test_results_are_ranked_with_scores(kb: KnowledgeBase) -> None:
    result = Lookup(kb.entries.values()).search("dyanmodb")
    scores = [m.score for m in result.matches]
    assert result.confident and "DynamoDB" in result.matches[0].entry.title
    assert scores == sorted(scores, reverse=True) and len(scores) <= 5


def test_short_acronyms_do_not_match_neighbours(kb: KnowledgeBase) -> None:
    lookup = Lookup(kb.entries.values())
    assert "EC2" in lookup.search("ec2").matches[0].entry.title
    assert "ECS" in lookup.search("ecs").matches[0].entry.title or \
        "Elastic Container Service" in lookup.search("ecs").matches[0].entry.title


def test_query_helpers() -> None:
    assert strip_question("What is the Amazon S3?") == "amazon s3"
    assert stem("scaling") == stem("scales") == stem("scale")


def test_apostrophes_straight_curly_or_none_read_the_same(kb: KnowledgeBase) -> None:
    lookup = Lookup(kb.entries.values())
    for query in ("what's a nacl", "what\u2019s a nacl", "whats a nacl", "what is a nacl"):
        result = lookup.search(query)
        assert result.confident and "network ACL" in result.matches[0].entry.title, query
    assert "AMI" in lookup.search("what\u2019s an AMI").matches[0].entry.title


def test_a_comparison_answers_with_every_side(kb: KnowledgeBase) -> None:
    lookup = Lookup(kb.entries.values())
    result = lookup.search("difference between ALB and NLB")
    titles = [m.entry.title for m in result.matches[:2]]
    assert result.confident and result.kind == "comparison"
    assert any("Application Load Balancer" in t for t in titles)
    assert any("Network Load Balancer" in t for t in titles)
    three = [m.entry.id for m in lookup.search("ebs vs efs vs s3").compared]
    assert three == ["ebs", "efs", "s3"]


def test_a_comparison_entry_answers_when_there_is_one(kb: KnowledgeBase) -> None:
    result = Lookup(kb.entries.values()).search("security groups vs nacls")
    first = result.matches[0].entry
    assert {"security-group", "network-acl"} <= set(first.related) | {m.entry.id for m in
                                                                      result.matches}
    assert first.id not in ("security-group", "network-acl")


def test_a_service_named_as_context_is_not_the_answer(kb: KnowledgeBase) -> None:
    lookup = Lookup(kb.entries.values())
    # "how do I …" and "which service …" ask for the thing that does the job.
    assert lookup.search("which service lets me query my cloudtrail logs with sql").matches[0] \
        .entry.id == "athena"
    assert lookup.search("what is cloudtrail").matches[0].entry.id == "cloudtrail"
