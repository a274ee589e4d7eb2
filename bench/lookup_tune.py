"""Search the lookup's combination weights on development sets; print the best few as a table.

Signals are computed once per query, then every candidate `Weights` re-ranks them, so a grid of
a few thousand settings takes a minute. Tune on the development sets and read the result on a set
that took no part (`--check`), so the weights generalise rather than memorise.

usage: python bench/lookup_tune.py [--check tests/data/realq_own.tsv]
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from bot.config import Settings
from bot.evaluation import read_cases, read_questions
from bot.knowledge import load_knowledge
from bot.lookup import Lookup, Signals, Weights

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL = ROOT.parent / "shared" / "eval"
GRID = {
    "words": [0.5, 0.6, 0.7],
    "meaning": [0.15, 0.25, 0.35],
    "closeness": [0.0, 0.15, 0.3],
    "cover_floor": [0.3, 0.45, 0.6],
    "context": [0.72, 0.85, 1.0],
    "kind": [0.0, 0.2, 0.4],
}
CONFIDENCE = {"confident": [50.0, 55.0, 60.0, 65.0], "confident_short": [45.0, 50.0, 55.0],
              "margin": [4.0, 8.0, 12.0],
              "sure": [78.0, 86.0], "agreed": [45.0, 50.0, 55.0]}


def questions(lookup: Lookup, paths: list[Path]) -> list[tuple[Signals, set[str]]]:
    out = []
    for path in paths:
        for row in read_questions(path, ROOT / "tests" / "data" / "realq_dev_missing.tsv"):
            if row["accepted_ids"].strip() != "MISSING":
                out.append((lookup.signals(row["query"]), set(row["accepted_ids"].split("|"))))
    return out


def names(lookup: Lookup, paths: list[Path]) -> list[tuple[Signals, tuple[str, ...]]]:
    return [(lookup.signals(case.query), case.accepted) for path in paths
            for case in read_cases(path)]


def score(lookup: Lookup, w: Weights, qs: list[tuple[Signals, set[str]]],
          ns: list[tuple[Signals, tuple[str, ...]]]) -> tuple[float, float, float, float, int]:
    t1 = t3 = wrong = 0
    for signals, ok in qs:
        result = lookup.rank(signals, 3, w)
        got = [m.entry.id for m in result.matches]
        first = bool(got) and got[0] in ok
        t1 += first
        t3 += any(g in ok for g in got)
        wrong += result.confident and not first
    named = junk = 0
    for signals, accepted in ns:
        result = lookup.rank(signals, 1, w)
        if not accepted:
            junk += result.confident
            continue
        title = result.matches[0].entry.title.lower() if result.matches else ""
        named += result.confident and any(a.lower() in title for a in accepted)
    n_names = sum(1 for _, a in ns if a) or 1
    return t1 / len(qs), t3 / len(qs), wrong / len(qs), named / n_names, junk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=Path, action="append", default=[])
    parser.add_argument("--max-wrong", type=float, default=0.08)
    parser.add_argument("--confidence-only", action="store_true",
                        help="keep the shipped ranking weights; search only the thresholds")
    args = parser.parse_args()
    kb = load_knowledge(Settings.from_env().knowledge_dir)  # entries, even while others are edited
    lookup = Lookup(kb.entries.values())
    qs = questions(lookup, [SHARED_EVAL / "realq_dev.tsv"])
    ns = names(lookup, [*sorted((ROOT / "tests" / "data").glob("lookup_*.tsv"))])
    checks = questions(lookup, args.check) if args.check else []
    # Ranking first (confidence does not change the order), then the confidence thresholds.
    ranked = [(0.0, Weights())] if args.confidence_only else []
    for values in () if args.confidence_only else itertools.product(*GRID.values()):
        w = Weights(**dict(zip(GRID, values, strict=True)))
        t1, t3, _, _, _ = score(lookup, w, qs, [])
        ranked.append((t1 + t3, w))
    ranked.sort(key=lambda item: -item[0])
    best = []
    for _, w in ranked[:3]:
        for values in itertools.product(*CONFIDENCE.values()):
            cw = replace(w, **dict(zip(CONFIDENCE, values, strict=True)))
            t1, t3, wrong, named, junk = score(lookup, cw, qs, ns)
            if wrong <= args.max_wrong:
                best.append((t1 + t3 + named - junk, t1, t3, wrong, named, junk, cw))
    best.sort(key=lambda item: -item[0])
    print(f"{'top-1':>7}{'top-3':>7}{'wrong':>7}{'names':>7}{'chk t1':>8}{'chk t3':>8}"
          f"{'chk wr':>8}{'junk':>5}  weights")
    for _, t1, t3, wrong, named, junk, w in best[:8]:
        c = score(lookup, w, checks, []) if checks else (0, 0, 0, 0, 0)
        print(f"{t1:>7.3f}{t3:>7.3f}{wrong:>7.3f}{named:>7.3f}{c[0]:>8.3f}{c[1]:>8.3f}"
              f"{c[2]:>8.3f}{junk:>5}  {w}")
    print(f"default: {score(lookup, Weights(), qs, ns)[:4]}")


if __name__ == "__main__":
    main()
