"""Replies built to trip a phrase-counting grader: keyword lists, padding, false claims, polite
dismissal - and natural, well-judged replies that no phrase list anticipates.

The development set lives beside the repository in ../shared/eval (CI lays it out there); the
helper-written set is tests/data/roleplay_adversarial_own.tsv. Both are graded the way
`python3 ../shared/eval/score.py roleplay` grades them (each topic's default scenario, opening
turn) and must stay above floors a little below what the grader reaches today.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase
from bot.roleplay.dialogue import former_name_map
from bot.roleplay.grader import grade
from bot.roleplay.scenarios import default_scenario
from tests.conftest import DATA, SHARED_EVAL

DEV = SHARED_EVAL / "roleplay_adversarial_dev.tsv"
OWN = DATA / "roleplay_adversarial_own.tsv"
# floors: (pairs ordered, at most this share of poor replies fooled, good replies recognised)
FLOORS = {"dev": (0.90, 0.10, 0.90), "own": (0.85, 0.15, 0.85)}


def read(path: Path) -> list[tuple[str, int, str, str]]:
    if not path.exists():
        pytest.fail(f"{path} is missing: the adversarial role-play set must be laid out beside "
                    "the repository (../shared/eval) or in tests/data")
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("topic\t"):
            continue
        topic, label, kind, reply = line.split("\t")
        rows.append((topic, int(label), kind, reply))
    return rows


def measure(kb: KnowledgeBase, path: Path) -> tuple[float, float, float, dict[str, float]]:
    former = former_name_map(kb)
    by_topic: dict[str, list[tuple[int, str, int]]] = {}
    for topic, label, kind, reply in read(path):
        scenario = default_scenario(kb.scenarios, topic)
        assert scenario is not None, topic
        by_topic.setdefault(topic, []).append(
            (label, kind, grade(reply, scenario, "opening", "", former).score))
    ordered = pairs = fooled = poor = good = strong = 0
    per_topic: dict[str, float] = {}
    for topic, rows in by_topic.items():
        t_ordered = t_pairs = 0
        for i, (label_a, _, score_a) in enumerate(rows):
            for label_b, _, score_b in rows[i + 1:]:
                if label_a == label_b:
                    continue
                hi, lo = (score_a, score_b) if label_a > label_b else (score_b, score_a)
                t_pairs += 1
                t_ordered += hi > lo
        per_topic[topic] = t_ordered / max(t_pairs, 1)
        ordered, pairs = ordered + t_ordered, pairs + t_pairs
        poor += sum(1 for label, _, _ in rows if label == 0)
        fooled += sum(1 for label, _, score in rows if label == 0 and score >= 70)
        strong += sum(1 for label, _, _ in rows if label == 2)
        good += sum(1 for label, _, score in rows if label == 2 and score >= 70)
    return ordered / max(pairs, 1), fooled / max(poor, 1), good / max(strong, 1), per_topic


@pytest.mark.parametrize("name,path", [("dev", DEV), ("own", OWN)])
def test_adversarial_replies_rank_like_a_coach(kb: KnowledgeBase, name: str, path: Path) -> None:
    pairs, fooled, good, per_topic = measure(kb, path)
    min_pairs, max_fooled, min_good = FLOORS[name]
    assert pairs >= min_pairs, (name, pairs, per_topic)
    assert fooled <= max_fooled, (name, fooled)
    assert good >= min_good, (name, good)
    assert min(per_topic.values()) >= min_pairs - 0.15, (name, per_topic)


def test_stuffed_and_padded_replies_never_look_strong(kb: KnowledgeBase) -> None:
    former = former_name_map(kb)
    for topic, _, kind, reply in read(DEV) + read(OWN):
        if kind not in ("stuffed", "repetitive", "dismissive_polite"):
            continue
        scenario = default_scenario(kb.scenarios, topic)
        assert scenario is not None
        result = grade(reply, scenario, "opening", "", former)
        assert result.score < 50, (kind, result.score, reply[:80])
