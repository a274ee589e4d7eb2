"""The shipped knowledge base is valid, covers the course and teaches current facts."""

from __future__ import annotations

from bot.knowledge import KnowledgeBase
from bot.lookup import Lookup


def test_shipped_knowledge_has_no_errors(kb: KnowledgeBase) -> None:
    assert [str(e) for e in kb.errors] == []


def test_at_least_150_entries_and_every_section_covered(kb: KnowledgeBase) -> None:
    assert len(kb.entries) >= 150
    covered = {e.section for e in kb.entries.values()}
    assert [s.name for s in kb.sections if s.name not in covered] == []


def test_every_domain_has_entries(kb: KnowledgeBase) -> None:
    assert all(any(e.domain == d.id for e in kb.entries.values()) for d in kb.domains)


# (what a learner types, a fragment the current title must contain, words the entry must teach)
CURRENT_FACTS = [
    ("Lamba", "Lambda", []),
    ("ElasticCache", "ElastiCache", []),
    ("AWS Single Sign-On", "IAM Identity Center", []),
    ("CloudEndure Disaster Recovery", "Elastic Disaster Recovery", []),
    ("Elasticsearch Service", "OpenSearch", []),
    ("ebs snapshots", "Snapshot", ["incremental", "S3"]),
    ("s3 storage classes", "Storage Class", ["Intelligent-Tiering", "Glacier Instant Retrieval",
                                             "Glacier Flexible Retrieval", "Glacier Deep Archive"]),
    ("elastic load balancing", "Elastic Load Balancing", ["Application", "Network", "Gateway",
                                                          "Classic"]),
]


def test_outdated_names_lead_to_the_current_fact(kb: KnowledgeBase) -> None:
    lookup = Lookup(kb.entries.values())
    for query, title, words in CURRENT_FACTS:
        result = lookup.search(query)
        assert result.confident, query
        entry = result.matches[0].entry
        assert title.lower() in entry.title.lower(), (query, entry.title)
        text = " ".join([entry.summary, *entry.details])
        for word in words:
            assert word.lower() in text.lower(), (query, word)


def test_former_names_are_kept_as_aliases(kb: KnowledgeBase) -> None:
    former = {name.lower() for e in kb.entries.values() for name in e.former_names}
    for name in ("lamba", "elasticcache", "aws single sign-on",
                 "cloudendure disaster recovery"):
        assert name in former, name


def test_objection_scenarios_ship_for_every_topic(kb: KnowledgeBase) -> None:
    for topic in ("security", "cost", "scalability"):
        scenarios = [s for s in kb.scenarios.values() if s.topic == topic]
        assert len(scenarios) >= 3, topic
        assert sum(s.default for s in scenarios) == 1, topic
