"""Print lookup quality (top-1, top-3, junk rejection) per kind for one or more TSV sets."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.app import load_checked
from bot.config import Settings
from bot.evaluation import evaluate, read_cases
from bot.lookup import Lookup

ROOT = Path(__file__).resolve().parent.parent


def main(paths: list[str]) -> None:
    kb = load_checked(Settings.from_env())
    lookup = Lookup(kb.entries.values())
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
