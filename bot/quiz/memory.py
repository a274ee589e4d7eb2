"""Spaced repetition with FSRS-6: ratings from answers, due dates and retrievability.

Each (learner, item) has one card. Correct is Good and wrong is Again; in on-demand quizzes a
fast correct answer (under 10 s) is Easy and a slow one (over 90 s) Hard. There are no
minute-scale learning steps: a chat bot should not ask again ten minutes later, so a new or
forgotten card comes back the next day at the earliest.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fsrs import Card, Rating, Scheduler

EASY_BELOW = timedelta(seconds=10)
HARD_ABOVE = timedelta(seconds=90)

_scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def rating_for(correct: bool, elapsed: timedelta | None = None, timed: bool = False) -> Rating:
    """Again for a wrong answer; Good for a right one, moved by answer time when `timed`."""
    if not correct:
        return Rating.Again
    if timed and elapsed is not None:
        if elapsed < EASY_BELOW:
            return Rating.Easy
        if elapsed > HARD_ABOVE:
            return Rating.Hard
    return Rating.Good


def review(card: dict[str, Any] | None, rating: Rating, when: datetime) -> tuple[dict[str, Any], datetime]:
    """The card after a review at `when`, and when it is next due."""
    current = Card.from_dict(card) if card else Card(due=when)  # type: ignore[arg-type]
    updated, _log = _scheduler.review_card(current, rating, review_datetime=when)
    return dict(updated.to_dict()), updated.due


def retrievability(card: dict[str, Any], when: datetime) -> float:
    """The probability (0-1) that the learner still recalls the item at `when`."""
    return float(_scheduler.get_card_retrievability(Card.from_dict(card), current_datetime=when))  # type: ignore[arg-type]
