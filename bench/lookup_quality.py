"""Print lookup quality (top-1, top-3, junk rejection) per kind for one or more TSV sets."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.config import Settings
from bot.evaluation import evaluate, read_cases, read_questions, score_questions
from bot.knowledge.checked import load_valid
from bot.lookup import Lookup

ROOT = Path(__file__).resolve().parent.parent


SHARED_EVAL = ROOT.parent / "shared" / "eval"


def questions(lookup: Lookup, topic_of: dict[str, str], path: Path) -> None:
    """Coverage, top-1, top-3 and confident-and-wrong, overall and per topic (domain)."""
    if not path.exists():
        print(f"\n{path.name}: not found")
        return
    rows = read_questions(path, ROOT / "tests" / "data" / "realq_dev_missing.tsv")
    scores = score_questions(lookup, rows, topic_of)
    print(f"\n{path.name}")
    print(f"{'topic':<24}{'rows':>6}{'coverage':>10}{'top-1':>8}{'top-3':>8}{'conf.wrong':>12}")
    for topic, s in sorted(scores.items(), key=lambda item: (item[0] != "all", item[0])):
        print(f"{topic:<24}{s.rows:>6}{s.covered / s.rows:>10.0%}{s.rate(s.top1):>8.0%}"
              f"{s.rate(s.top3):>8.0%}{s.rate(s.confident_wrong):>12.0%}")
    print(f"confident on MISSING rows: {scores['all'].confident_on_missing}")


def main(paths: list[str]) -> None:
    kb = load_valid(Settings.from_env().knowledge_dir)
    lookup = Lookup(kb.entries.values())
    topic_of = {e.id: e.domain for e in kb.entries.values()}
    if not paths:
        for path in (SHARED_EVAL / "realq_dev.tsv", ROOT / "tests" / "data" / "realq_own.tsv"):
            questions(lookup, topic_of, path)
    files = [Path(p) for p in paths] or [*sorted((ROOT / "tests" / "data").glob("lookup_*.tsv")),
                                         ROOT / "bench" / "data" / "lookup_hard.tsv"]
    for path in files:
        outcome = evaluate(lookup, read_cases(path))
        print(f"\n{path.name}")
        print(f"{'kind':<12}{'cases':>6}{'top-1':>8}{'top-3':>8}")
        for kind, (n, t1, t3) in sorted(outcome.per_kind.items()):
            print(f"{kind:<12}{n:>6}{t1 / n:>8.0%}{t3 / n:>8.0%}")
        print(f"{'all':<12}{outcome.total:>6}{outcome.top1_rate:>8.0%}{outcome.top3_rate:>8.0%}")
        print(f"junk rejected: {outcome.junk_rejected}/{outcome.junk}")
        for failure in outcome.failures:
            print("  miss:", failure)


if __name__ == "__main__":
    main(sys.argv[1:])
