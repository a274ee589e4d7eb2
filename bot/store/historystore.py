"""Read-only history queries for progress views: mistakes, weekly trend, exams and rankings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from bot.store.database import Database, as_utc, utcnow
from bot.store.tables import answers, exams, showings, users


@dataclass(frozen=True)
class Mistake:
    """A question answered wrong: the latest wrong answer, and whether a right one followed."""

    question_id: str
    chosen: tuple[int, ...]
    answered_at: datetime
    fixed: bool  # answered right after this wrong answer


@dataclass(frozen=True)
class PastExam:
    """A practice exam that is over (finished, abandoned or past its deadline) and its score."""

    id: str
    scope: str
    total: int
    answered: int
    right: int
    status: str  # finished | abandoned | timed out (an open exam past its deadline) | other
    started_at: datetime
    pass_mark: int
    deadline: datetime | None


@dataclass(frozen=True)
class PracticeScore:
    """One learner's answers in a period, for the leaderboard."""

    user_id: str
    name: str
    answered: int
    correct: int
    right_days: int  # distinct (question, UTC day) pairs answered right


class HistoryStore:
    """Queries over answers, showings, exams and users; it never writes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _day(self) -> Any:
        """The UTC day of an answer, as the database computes it."""
        if self.db.dialect == "postgresql":
            return func.date(func.timezone("UTC", answers.c.answered_at))
        return func.date(answers.c.answered_at)  # SQLite keeps UTC timestamps as text

    async def mistakes(self, tenant: str, user_id: str, since: datetime) -> list[Mistake]:
        """Distinct questions answered wrong since `since`, newest wrong answer first (a
        learner's answers of a few weeks: read in one query and folded here)."""
        stmt = (select(answers.c.question_id, answers.c.chosen, answers.c.correct,
                       answers.c.answered_at)
                .where(answers.c.tenant == tenant, answers.c.user_id == user_id,
                       answers.c.answered_at >= since)
                .order_by(answers.c.answered_at.desc(), answers.c.id.desc()))
        found: dict[str, Mistake] = {}
        right_later: set[str] = set()
        for row in await self.db.rows(stmt):  # newest first
            qid = row.question_id
            if qid in found:
                continue
            if row.correct:
                right_later.add(qid)
                continue
            found[qid] = Mistake(qid, tuple(int(i) for i in row.chosen or ()),
                                 as_utc(row.answered_at) or utcnow(), qid in right_later)
        return list(found.values())

    async def counts(self, tenant: str, user_id: str, start: datetime,
                     end: datetime) -> tuple[int, int]:
        """(answered, correct) between `start` (included) and `end` (excluded)."""
        stmt = (select(func.count(answers.c.id).label("answered"),
                       func.sum(case((answers.c.correct, 1), else_=0)).label("correct"))
                .where(answers.c.tenant == tenant, answers.c.user_id == user_id,
                       answers.c.answered_at >= start, answers.c.answered_at < end))
        row = await self.db.first(stmt)
        return (int(row.answered or 0), int(row.correct or 0)) if row else (0, 0)

    async def per_question(self, tenant: str, user_id: str) -> dict[str, tuple[int, int]]:
        """question id -> (correct, answered), all time."""
        stmt = (select(answers.c.question_id,
                       func.sum(case((answers.c.correct, 1), else_=0)).label("correct"),
                       func.count(answers.c.id).label("answered"))
                .where(answers.c.tenant == tenant, answers.c.user_id == user_id)
                .group_by(answers.c.question_id))
        return {r.question_id: (int(r.correct or 0), int(r.answered))
                for r in await self.db.rows(stmt)}

    async def past_exams(self, tenant: str, user_id: str, now: datetime,
                         limit: int = 5) -> list[PastExam]:
        """The latest exams that are over, newest first (by start), each with its score."""
        over = or_(exams.c.status != "open",
                   and_(exams.c.deadline.is_not(None), exams.c.deadline < now))
        stmt = (select(exams)
                .where(exams.c.tenant == tenant, exams.c.user_id == user_id, over)
                .order_by(exams.c.started_at.desc()).limit(limit))
        rows = await self.db.rows(stmt)
        if not rows:
            return []
        ids = [r.id for r in rows]
        scores = (select(showings.c.exam_id,
                         func.count(answers.c.id).label("answered"),
                         func.sum(case((answers.c.correct, 1), else_=0)).label("right"))
                  .select_from(answers.join(showings, showings.c.id == answers.c.showing_id))
                  .where(showings.c.exam_id.in_(ids))
                  .group_by(showings.c.exam_id))
        by_exam = {r.exam_id: (int(r.answered), int(r.right or 0))
                   for r in await self.db.rows(scores)}
        result = []
        for r in rows:
            answered, right = by_exam.get(r.id, (0, 0))
            status = "timed out" if r.status == "open" else r.status
            result.append(PastExam(r.id, r.scope, len(r.question_ids or ()), answered, right,
                                   status, as_utc(r.started_at) or now,
                                   int(r.pass_mark), as_utc(r.deadline)))
        return result

    async def practice_scores(self, tenant: str,
                              since: datetime | None) -> list[PracticeScore]:
        """Every learner with answers in the period: answered, correct and right question-days."""
        conditions = [answers.c.tenant == tenant]
        if since is not None:
            conditions.append(answers.c.answered_at >= since)
        totals = (select(answers.c.user_id,
                         func.count(answers.c.id).label("answered"),
                         func.sum(case((answers.c.correct, 1), else_=0)).label("correct"))
                  .where(*conditions).group_by(answers.c.user_id))
        right_pairs = (select(answers.c.user_id, answers.c.question_id,
                              self._day().label("day"))
                       .where(*conditions, answers.c.correct.is_(True))
                       .distinct().subquery())
        days = (select(right_pairs.c.user_id, func.count().label("right_days"))
                .group_by(right_pairs.c.user_id))
        names = select(users.c.user_id, users.c.name).where(users.c.tenant == tenant)
        right_days = {r.user_id: int(r.right_days) for r in await self.db.rows(days)}
        name_of = {r.user_id: r.name for r in await self.db.rows(names)}
        return [PracticeScore(r.user_id, name_of.get(r.user_id) or r.user_id, int(r.answered),
                              int(r.correct or 0), right_days.get(r.user_id, 0))
                for r in await self.db.rows(totals)]
