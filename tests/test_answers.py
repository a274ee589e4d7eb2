"""Lookup replies: the answer, alternatives only when close, related entries by title, no repeats."""

from __future__ import annotations

from bot.answers import entry_reply
from bot.knowledge import KnowledgeBase
from bot.lookup import Lookup


def test_no_entry_appears_twice_and_related_are_titles(kb: KnowledgeBase) -> None:
    lookup = Lookup(kb.entries.values())
    for query in ("what is ebs", "s3", "how do i stop one bad ip hammering my login page",
                  "nacl", "which database for key value lookups at any scale"):
        result = lookup.search(query)
        reply = entry_reply(kb, result)
        values = [c.value for c in reply.choices]
        assert len(values) == len(set(values)), query
        related = next((line for line in reply.text.splitlines() if line.startswith("Related:")), "")
        assert "`" not in related, related  # titles, not raw ids
        if result.confident:  # the answer itself is never offered again as a choice
            assert result.matches[0].entry.id not in values, query


def test_a_clear_answer_has_no_did_you_mean(kb: KnowledgeBase) -> None:
    reply = entry_reply(kb, Lookup(kb.entries.values()).search("what is amazon ebs"))
    assert "Did you mean" not in reply.text


def test_a_comparison_reply_shows_both_sides(kb: KnowledgeBase) -> None:
    reply = entry_reply(kb, Lookup(kb.entries.values()).search("ebs vs efs"))
    assert "Amazon Elastic Block Store" in reply.text and "Amazon Elastic File System" in reply.text
    assert {c.value for c in reply.choices} == {"ebs", "efs"}


def test_unsure_offers_the_candidates_as_choices(kb: KnowledgeBase) -> None:
    result = Lookup(kb.entries.values()).search("pizza delivery tracking")
    reply = entry_reply(kb, result)
    assert not result.confident
    assert [c.value for c in reply.choices] == [m.entry.id for m in result.matches[:3]]
