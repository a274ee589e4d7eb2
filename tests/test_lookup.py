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
