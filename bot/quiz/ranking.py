"""The fair leaderboard: a score for accuracy and spaced practice, the top five and your place.

score = right question-days × accuracy², where a right question-day is a question answered right
on a UTC day (answering it again the same day adds nothing) and accuracy is shrunk towards
one half, (correct + 1) / (answered + 2), so that a handful of lucky answers is not 100 %.
Squaring the accuracy makes guessing through many questions a poor strategy: 25 right of 83
scores 2.3, 14 right of 20 scores 6.5. Learners need MIN_ANSWERS answers in the period and at
least one right to be ranked; nobody at 0 % is ever named.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.historystore import PracticeScore
from bot.text import escape_md

MIN_ANSWERS = 5
TOP = 5


@dataclass(frozen=True)
class Ranked:
    """A ranked learner: place (1-based), their numbers and their score."""

    place: int
    entry: PracticeScore
    score: float


def practice_score(entry: PracticeScore) -> float:
    """Right question-days times the squared, shrunk accuracy."""
    accuracy = (entry.correct + 1) / (entry.answered + 2)
    return entry.right_days * accuracy * accuracy


def is_ranked(entry: PracticeScore) -> bool:
    return entry.answered >= MIN_ANSWERS and entry.correct > 0


def rank(entries: list[PracticeScore]) -> list[Ranked]:
    """Ranked learners best first; equal scores share a place (ties: accuracy, then name)."""
    scored = sorted(((practice_score(e), e) for e in entries if is_ranked(e)),
                    key=lambda se: (-round(se[0], 6), -se[1].correct / se[1].answered,
                                    se[1].name.lower(), se[1].user_id))
    ranked: list[Ranked] = []
    for position, (score, entry) in enumerate(scored, start=1):
        same = ranked and round(ranked[-1].score, 1) == round(score, 1)
        ranked.append(Ranked(ranked[-1].place if same else position, entry, score))
    return ranked


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd, 101st..."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def same_board(a: list[Ranked], b: list[Ranked]) -> bool:
    """True when two periods rank the same people, with the same numbers, in the same order."""
    return [(r.place, r.entry) for r in a] == [(r.place, r.entry) for r in b]


def entry_line(ranked: Ranked, you: str | None = None) -> str:
    """'1. Alice: score 6.5 · 14 right of 20 (70 %)', with '← you' for the asker in a DM."""
    e = ranked.entry
    mark = " ← you" if you is not None and e.user_id == you else ""
    return (f"{ranked.place}. {escape_md(e.name)}: score {ranked.score:.1f} · "
            f"{e.correct} right of {e.answered} ({round(100 * e.correct / e.answered)} %){mark}")


def top_lines(ranked: list[Ranked], you: str | None = None) -> list[str]:
    """The top five, or a line saying nobody is ranked yet."""
    if not ranked:
        return [f"- nobody is ranked yet (it takes {MIN_ANSWERS} answers with at least one "
                "right)"]
    return [entry_line(r, you) for r in ranked[:TOP]]


def own_place(ranked: list[Ranked], entries: list[PracticeScore], user_id: str) -> str:
    """'You: 12th of 30, score 4.2 …' or why the asker is not ranked yet."""
    mine = next((r for r in ranked if r.entry.user_id == user_id), None)
    if mine is not None:
        e = mine.entry
        return (f"You: {ordinal(mine.place)} of {len(ranked)}, score {mine.score:.1f} "
                f"({e.correct} right of {e.answered})")
    entry = next((e for e in entries if e.user_id == user_id), None)
    answered = entry.answered if entry else 0
    if answered < MIN_ANSWERS:
        more = MIN_ANSWERS - answered
        return f"You're not ranked yet: answer {more} more question{'s' if more != 1 else ''}."
    return "You're not ranked yet: get one answer right to join."
