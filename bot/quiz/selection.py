"""Choose the next question: due reviews first, then unseen questions from the weakest module."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime

from bot.knowledge.schema import KnowledgeBase
from bot.quiz.memory import retrievability
from bot.store.quizstore import AnswerSummary, CardRow


def due_questions(cards: list[CardRow], pool: set[str], now: datetime,
                  exclude: str | None = None) -> list[str]:
    """Question ids in `pool` whose cards are due by `now`, most overdue first."""
    due = [c for c in cards if c.item_id in pool and c.due <= now and c.item_id != exclude]
    return [c.item_id for c in sorted(due, key=lambda c: c.due)]


def module_accuracy(summary: AnswerSummary) -> dict[str, float]:
    """Smoothed accuracy per module ((correct + 1) / (answered + 2)); unseen modules are 0.5."""
    return {module: (c + 1) / (n + 2) for module, (c, n) in summary.per_module.items()}


def needs_card_state(pool: list[str], cards: list[CardRow], answers: AnswerSummary,
                     last: str | None, now: datetime) -> bool:
    """True when `next_question` will compare memories (nothing due, everything seen), so the
    cards must carry their FSRS state; otherwise due dates and ids are enough."""
    if due_questions(cards, set(pool), now, exclude=last):
        return False
    seen = {c.item_id for c in cards} | answers.questions
    return not any(q not in seen and q != last for q in pool)


def next_question(kb: KnowledgeBase, pool: list[str], cards: list[CardRow],
                  answers: AnswerSummary, last: str | None, now: datetime,
                  rng: random.Random) -> str | None:
    """The question to ask next from `pool`, never `last` when anything else is possible."""
    pool_set = set(pool)
    due = due_questions(cards, pool_set, now, exclude=last)
    if due:
        return due[0]
    seen = {c.item_id for c in cards} | answers.questions
    unseen = [q for q in pool if q not in seen and q != last]
    if unseen:
        accuracy = module_accuracy(answers)
        by_module: dict[str, list[str]] = defaultdict(list)
        for qid in unseen:
            by_module[kb.module_of(kb.questions[qid].section)].append(qid)
        weakest = min(by_module, key=lambda m: (accuracy.get(m, 0.5), rng.random()))
        candidates = by_module[weakest]
        easiest = min(kb.questions[q].difficulty for q in candidates)
        return rng.choice([q for q in candidates if kb.questions[q].difficulty == easiest])
    # Everything seen and nothing due: practise what is most likely forgotten.
    known = [c for c in cards if c.item_id in pool_set and c.item_id != last]
    if known:
        return min(known, key=lambda c: (retrievability(c.card, now), rng.random())).item_id
    others = [q for q in pool if q != last]
    return rng.choice(others) if others else (pool[0] if pool else None)


def review_queue(cards: list[CardRow], wrong_today: list[str], end: datetime) -> list[str]:
    """What `review` offers today: the cards due by `end`, most overdue first, then today's
    mistakes that FSRS has not made due yet (a wrong answer's card is due tomorrow at the
    earliest, but a mistake is worth another go the same day), oldest mistake first."""
    due = [c.item_id for c in sorted(cards, key=lambda c: c.due) if c.due <= end]
    return due + [q for q in wrong_today if q not in set(due)]


def focus_first(focus: tuple[str, ...], cards: list[CardRow], answers: AnswerSummary,
                last: str | None, now: datetime) -> list[str]:
    """The focus questions of a scope still worth asking first (new or due, never the one just
    shown); empty when the rest of the scope should be used."""
    due = {c.item_id for c in cards if c.due <= now}
    seen = {c.item_id for c in cards} | answers.questions
    return [q for q in focus if q != last and (q not in seen or q in due)]
