"""The `aws-quiz roleplay grade` contract used to accept the grading work."""

from __future__ import annotations

import json

from tests.conftest import DATA, run_cli


def dev_set() -> dict[str, list[tuple[int, str]]]:
    rows: dict[str, list[tuple[int, str]]] = {}
    for line in (DATA / "roleplay_dev.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            topic, label, reply = line.split("\t")
            rows.setdefault(topic, []).append((int(label), reply))
    return rows


def test_grade_json_shape_and_stdin_lines_rank_the_dev_set() -> None:
    for topic, rows in dev_set().items():
        result = run_cli("roleplay", "grade", "--topic", topic, "-",
                         stdin="\n".join(reply for _, reply in rows) + "\n")
        assert result.returncode == 0, result.stderr
        grades = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(grades) == len(rows)
        for grade in grades:
            assert set(grade) == {"score", "band", "criteria", "penalties", "suggestions"}
            assert 0 <= grade["score"] <= 100
            for criterion in grade["criteria"]:
                assert set(criterion) == {"name", "points", "max", "evidence"}
            for penalty in grade["penalties"]:
                assert set(penalty) == {"rule", "points", "evidence"} and penalty["evidence"]
        by_label = {label: grade["score"] for (label, _), grade in zip(rows, grades,
                                                                       strict=True)}
        assert by_label[2] > by_label[1] > by_label[0], (topic, by_label)


def test_grade_text_output_quotes_the_words_that_scored() -> None:
    result = run_cli("roleplay", "grade", "--topic", "security",
                     "It's definitely safe, just use KMS.")
    assert result.returncode == 0
    assert '"definitely"' in result.stdout and '"KMS"' in result.stdout
    assert "Try:" in result.stdout


def test_blind_set_ranks_strong_over_weak_and_pairs_in_order() -> None:
    from bot.app import load_checked
    from bot.config import Settings
    from bot.roleplay.dialogue import former_name_map
    from bot.roleplay.grader import grade
    from bot.roleplay.scenarios import default_scenario

    kb = load_checked(Settings.from_env())
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
