"""Score lookup quality on a TSV set (kind, query, accepted title fragments) as the issue defines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.lookup import Lookup


@dataclass(frozen=True)
class Case:
    """One line of a lookup evaluation set."""

    kind: str
    query: str
    accepted: tuple[str, ...]  # empty: the answer must be "no confident match"


@dataclass
class Outcome:
    """Counts per kind and the cases that failed, for a readable report."""

    total: int = 0
    top1: int = 0
    top3: int = 0
    junk: int = 0
    junk_rejected: int = 0
    per_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    failures: list[str] = field(default_factory=list)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.total if self.total else 1.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.total if self.total else 1.0


def read_cases(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        kind, query = parts[0].strip(), parts[1].strip()
        accepted = tuple(a for a in (parts[2].split("|") if len(parts) > 2 else []) if a.strip())
        cases.append(Case(kind, query, accepted))
    return cases


def _accepts(title: str, accepted: tuple[str, ...]) -> bool:
    return any(fragment.lower() in title.lower() for fragment in accepted)


def evaluate(lookup: Lookup, cases: list[Case]) -> Outcome:
    """Top-1 and top-3 over answerable cases (a top-1 must also be confident); junk rejection."""
    outcome = Outcome()
    for case in cases:
        result = lookup.search(case.query)
        titles = [m.entry.title for m in result.matches]
        if not case.accepted:
            outcome.junk += 1
            if not result.confident:
                outcome.junk_rejected += 1
            else:
                outcome.failures.append(f"junk accepted: {case.query!r} -> {titles[:1]}")
            continue
        outcome.total += 1
        row = outcome.per_kind[case.kind]
        row[0] += 1
        hit1 = result.confident and bool(titles) and _accepts(titles[0], case.accepted)
        hit3 = any(_accepts(t, case.accepted) for t in titles[:3])
        outcome.top1 += hit1
        outcome.top3 += hit3
        row[1] += hit1
        row[2] += hit3
        if not hit1:
            outcome.failures.append(
                f"{case.kind}: {case.query!r} -> {titles[:3]} (confident={result.confident}, "
                f"want {'|'.join(case.accepted)})")
    return outcome


@dataclass
class QuestionScore:
    """Learner-question quality as the issue defines it: coverage, top-1, top-3, confident-wrong."""

    rows: int = 0
    covered: int = 0
    top1: int = 0
    top3: int = 0
    confident_wrong: int = 0
    confident_on_missing: int = 0
    misses: list[str] = field(default_factory=list)

    def rate(self, count: int) -> float:
        return count / self.covered if self.covered else 1.0


def _tsv(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:]]


def read_questions(path: Path, labels: Path | None = None) -> list[dict[str, str]]:
    """Rows of a learner-question set (query, answer, accepted_ids; `MISSING` = no entry yet).

    `labels` (answer, accepted_ids) gives ids to MISSING rows whose entry has since been written.
    """
    rows = _tsv(path)
    if labels is not None and labels.exists():
        by_answer = {row["answer"]: row["accepted_ids"] for row in _tsv(labels)}
        for row in rows:
            if row.get("accepted_ids", "").strip() == "MISSING" and row["answer"] in by_answer:
                row["accepted_ids"] = by_answer[row["answer"]]
    return rows


def score_questions(lookup: Lookup, rows: list[dict[str, str]],
                    topic_of: dict[str, str] | None = None) -> dict[str, QuestionScore]:
    """Scores over all rows ("all") and per topic (the domain of the first accepted entry)."""
    scores: dict[str, QuestionScore] = defaultdict(QuestionScore)
    for row in rows:
        accepted = row.get("accepted_ids", "").strip()
        result = lookup.search(row["query"])
        got = [m.entry.id for m in result.matches]
        ok = set(accepted.split("|"))
        topic = (topic_of or {}).get(accepted.split("|")[0], "other")
        for key in ("all", topic) if accepted != "MISSING" else ("all",):
            score = scores[key]
            score.rows += 1
            if accepted == "MISSING":
                score.confident_on_missing += result.confident
                continue
            first = bool(got) and got[0] in ok
            score.covered += 1
            score.top1 += first
            score.top3 += any(g in ok for g in got[:3])
            score.confident_wrong += result.confident and not first
            if not first and key == "all":
                score.misses.append(f"{'confident ' if result.confident else ''}{row['query']!r} "
                                    f"-> {got[:3]}, want {accepted}")
    return scores


@dataclass
class ReplyScore:
    """Role-play grading against labelled replies: pairs ordered, poor replies fooled, good ones
    recognised (a reply "passes" at 70, band Strong)."""

    pairs: int = 0
    ordered: int = 0
    poor: int = 0
    fooled: int = 0
    good: int = 0
    recognised: int = 0


def score_replies(rows: list[tuple[str, int, int]]) -> dict[str, ReplyScore]:
    """`rows` are (topic, label, score); scores per topic and over "all". Pairs are compared
    within a topic; a tie between different labels counts as wrong."""
    scores: dict[str, ReplyScore] = defaultdict(ReplyScore)
    by_topic: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for topic, label, score in rows:
        by_topic[topic].append((label, score))
    for topic, items in by_topic.items():
        for key in (topic, "all"):
            s = scores[key]
            for i, (label_a, score_a) in enumerate(items):
                s.poor += label_a == 0
                s.fooled += label_a == 0 and score_a >= 70
                s.good += label_a == 2
                s.recognised += label_a == 2 and score_a >= 70
                for label_b, score_b in items[i + 1:]:
                    if label_a != label_b:
                        s.pairs += 1
                        s.ordered += (score_a - score_b) * (label_a - label_b) > 0
    return scores
