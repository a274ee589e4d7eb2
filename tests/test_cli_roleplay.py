"""The `aws-quiz roleplay grade` contract used to accept the grading work."""

from __future__ import annotations

import json

from bot.knowledge import KnowledgeBase
from bot.roleplay.dialogue import former_name_map
from bot.roleplay.grader import grade
from bot.roleplay.scenarios import default_scenario
from tests.conftest import DATA, run_cli

FALSE_CLAIM = ("I understand. What would your board need to hear? Once you upload it, AWS becomes "
               "the legal owner of your data.")


def dev_set() -> dict[str, list[tuple[int, str]]]:
    rows: dict[str, list[tuple[int, str]]] = {}
    for line in (DATA / "roleplay_dev.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            topic, label, reply = line.split("\t")
            rows.setdefault(topic, []).append((int(label), reply))
    return rows


def test_grade_json_shape_and_stdin_lines_rank_the_dev_set() -> None:
    rows = dev_set()["security"]
    lines = [reply for _, reply in rows] + [FALSE_CLAIM]
    result = run_cli("roleplay", "grade", "--topic", "security", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    grades = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(grades) == len(lines)
    for grade_ in grades:
        assert set(grade_) == {"score", "band", "criteria", "penalties", "suggestions",
                               "misconceptions"}
        assert 0 <= grade_["score"] <= 100
        for criterion in grade_["criteria"]:
            assert set(criterion) == {"name", "points", "max", "evidence"}
        for penalty in grade_["penalties"]:
            assert set(penalty) == {"rule", "points", "evidence"} and penalty["evidence"]
    by_label = {label: grade_["score"] for (label, _), grade_ in zip(rows, grades, strict=False)}
    assert by_label[2] > by_label[1] > by_label[0], by_label
    # a false claim: capped below Strong, named with its fact and the entry to read
    wrong = grades[-1]
    assert wrong["score"] < 70
    [claim] = wrong["misconceptions"]
    assert set(claim) == {"id", "claim", "fact", "entry", "sentence"}
    assert claim["sentence"] == "Once you upload it, AWS becomes the legal owner of your data."
    assert claim["fact"] and claim["entry"]
    assert any(p["rule"] == "False claim" for p in wrong["penalties"])


def test_dev_set_ranks_in_every_topic(kb: KnowledgeBase) -> None:
    former = former_name_map(kb)
    for topic, rows in dev_set().items():
        scenario = default_scenario(kb.scenarios, topic)
        assert scenario is not None
        scores = {label: grade(reply, scenario, "opening", "", former).score
                  for label, reply in rows}
        assert scores[2] > scores[1] > scores[0], (topic, scores)


def test_grade_text_output_quotes_the_words_that_scored() -> None:
    result = run_cli("roleplay", "grade", "--topic", "security",
                     "It's definitely safe, just use KMS.")
    assert result.returncode == 0
    assert '"definitely"' in result.stdout and '"KMS"' in result.stdout
    assert "Try:" in result.stdout


def test_blind_set_ranks_strong_over_weak_and_pairs_in_order(kb: KnowledgeBase) -> None:
    former = former_name_map(kb)
    by_topic: dict[str, list[tuple[int, int]]] = {}
    for line in (DATA / "roleplay_blind.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            topic, label, reply = line.split("\t")
            scenario = default_scenario(kb.scenarios, topic)
            assert scenario is not None
            score = grade(reply, scenario, "opening", "", former).score
            by_topic.setdefault(topic, []).append((int(label), score))
    for topic, rows in by_topic.items():
        strong = [s for label, s in rows if label == 2]
        weak = [s for label, s in rows if label == 0]
        assert min(strong) > max(weak), topic
        pairs = [(a, b) for a in rows for b in rows if a[0] > b[0]]
        ordered = sum(1 for a, b in pairs if a[1] > b[1])
        assert ordered / len(pairs) >= 0.85, (topic, rows)
