"""Read-only queries for readiness and the team view: learners, cards, answers, exams, role-plays."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from bot.store.database import Database, as_utc, utcnow
from bot.store.tables import answers, cards, exams, roleplays, showings, users


@dataclass(frozen=True)
class Learner:
    """Someone of the tenant who has used the quiz (a row of `users`)."""

    user_id: str
    name: str
    last_seen_at: datetime


@dataclass(frozen=True)
class CardState:
    """A learner's FSRS card for one question and when it is next due."""

    card: dict[str, Any]
    due: datetime


@dataclass(frozen=True)
class ExamRecord:
    """A finished practice exam: its questions and which of them were answered right."""

    id: str
    user_id: str
    scope: str  # "" is the whole course
    question_ids: tuple[str, ...]
    pass_mark: int
    finished_at: datetime
    right_ids: frozenset[str]

    @property
    def total(self) -> int:
        return len(self.question_ids)

    @property
    def right(self) -> int:
        """Questions answered right; unanswered ones (time ran out) count as wrong."""
        return sum(1 for qid in self.question_ids if qid in self.right_ids)

    @property
    def percent(self) -> int:
        """The score as the exam's scorecard shows it."""
        return round(100 * self.right / self.total) if self.total else 0


@dataclass(frozen=True)
class RoleplayRecord:
    """A learner's finished role-plays in aggregate."""

    count: int
    best: int | None
    average: float | None


Counts = dict[str, tuple[int, int]]  # module -> (correct, answered)


def _mine(column_tenant: Any, column_user: Any, tenant: str, user: str | None) -> list[Any]:
    conditions = [column_tenant == tenant]
    if user is not None:
        conditions.append(column_user == user)
    return conditions


class TeamStore:
    """Everything readiness needs, for one learner (`user`) or a whole tenant (`user=None`):
    each method is one grouped query, however many learners there are."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def learners(self, tenant: str, user: str | None = None) -> list[Learner]:
        stmt = select(users.c.user_id, users.c.name, users.c.last_seen_at).where(
            *_mine(users.c.tenant, users.c.user_id, tenant, user))
        return [Learner(r.user_id, r.name or r.user_id, as_utc(r.last_seen_at) or utcnow())
                for r in await self.db.rows(stmt)]

    async def cards(self, tenant: str, user: str | None = None) -> dict[str, dict[str, CardState]]:
        """user -> question id -> card (role-play cards are left out)."""
        stmt = select(cards.c.user_id, cards.c.item_id, cards.c.card, cards.c.due).where(
            *_mine(cards.c.tenant, cards.c.user_id, tenant, user),
            cards.c.item_id.not_like("scenario:%"))
        out: dict[str, dict[str, CardState]] = defaultdict(dict)
        for r in await self.db.rows(stmt):
            out[r.user_id][r.item_id] = CardState(dict(r.card), as_utc(r.due) or utcnow())
        return dict(out)

    async def answer_counts(self, tenant: str, since: datetime | None = None,
                            user: str | None = None) -> dict[str, Counts]:
        """user -> module -> (correct, answered), all time or since `since`."""
        correct = func.sum(case((answers.c.correct, 1), else_=0))
        conditions = _mine(answers.c.tenant, answers.c.user_id, tenant, user)
        if since is not None:
            conditions.append(answers.c.answered_at >= since)
        stmt = (select(answers.c.user_id, answers.c.module, correct.label("correct"),
                       func.count().label("answered"))
                .where(*conditions).group_by(answers.c.user_id, answers.c.module))
        out: dict[str, Counts] = defaultdict(dict)
        for r in await self.db.rows(stmt):
            out[r.user_id][r.module] = (int(r.correct or 0), int(r.answered))
        return dict(out)

    async def finished_exams(self, tenant: str,
                             user: str | None = None) -> dict[str, list[ExamRecord]]:
        """user -> finished practice exams, oldest first, with the questions answered right."""
        stmt = select(exams).where(*_mine(exams.c.tenant, exams.c.user_id, tenant, user),
                                   exams.c.status == "finished")
        rows = await self.db.rows(stmt)
        right_stmt = (select(showings.c.exam_id, answers.c.question_id)
                      .select_from(answers.join(showings, showings.c.id == answers.c.showing_id)
                                   .join(exams, exams.c.id == showings.c.exam_id))
                      .where(*_mine(exams.c.tenant, exams.c.user_id, tenant, user),
                             exams.c.status == "finished", answers.c.correct.is_(True)))
        right: dict[str, set[str]] = defaultdict(set)
        for r in await self.db.rows(right_stmt):
            right[r.exam_id].add(r.question_id)
        out: dict[str, list[ExamRecord]] = defaultdict(list)
        for r in rows:
            finished = as_utc(r.finished_at) or as_utc(r.started_at) or utcnow()
            out[r.user_id].append(ExamRecord(r.id, r.user_id, r.scope or "",
                                             tuple(r.question_ids), int(r.pass_mark), finished,
                                             frozenset(right.get(r.id, ()))))
        for records in out.values():
            records.sort(key=lambda e: e.finished_at)
        return dict(out)

    async def roleplay_results(self, tenant: str,
                               user: str | None = None) -> dict[str, RoleplayRecord]:
        """user -> finished role-plays: how many, best and average score."""
        stmt = (select(roleplays.c.user_id, func.count().label("n"),
                       func.max(roleplays.c.score).label("best"),
                       func.avg(roleplays.c.score).label("average"))
                .where(*_mine(roleplays.c.tenant, roleplays.c.user_id, tenant, user),
                       roleplays.c.status == "finished")
                .group_by(roleplays.c.user_id))
        return {r.user_id: RoleplayRecord(int(r.n), None if r.best is None else int(r.best),
                                          None if r.average is None else float(r.average))
                for r in await self.db.rows(stmt)}
