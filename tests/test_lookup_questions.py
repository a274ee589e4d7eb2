"""Learners' real questions find the right entry: floors on the development set and on our own."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import read_questions, score_questions
from bot.knowledge import KnowledgeBase
from bot.lookup import Lookup
from tests.conftest import DATA, SHARED_EVAL

# (file, top-1 floor, top-3 floor, most confident-and-wrong share); set a little under today's
# figures (docs/benchmarks.md) so a change that makes real questions worse fails.
SETS = [
    (SHARED_EVAL / "realq_dev.tsv", 0.77, 0.88, 0.09),  # its MISSING rows: realq_dev_missing.tsv
    (DATA / "realq_own.tsv", 0.88, 0.95, 0.05),
]


@pytest.mark.parametrize(("path", "top1", "top3", "wrong"), SETS, ids=lambda v: getattr(v, "name", ""))
def test_learner_questions(kb: KnowledgeBase, path: Path, top1: float, top3: float,
                           wrong: float) -> None:
    assert path.exists(), f"{path} is missing: CI lays shared/ beside the repository"
    rows = read_questions(path, DATA / "realq_dev_missing.tsv")
    score = score_questions(Lookup(kb.entries.values()), rows)["all"]
    misses = "\n".join(score.misses)
    assert score.covered / score.rows >= 0.95, f"{path.name}: too many MISSING rows"
    assert score.rate(score.top1) >= top1, f"{path.name} top-1 {score.rate(score.top1):.1%}\n{misses}"
    assert score.rate(score.top3) >= top3, f"{path.name} top-3 {score.rate(score.top3):.1%}\n{misses}"
    assert score.rate(score.confident_wrong) <= wrong, (
        f"{path.name} confident and wrong {score.rate(score.confident_wrong):.1%}\n{misses}")
