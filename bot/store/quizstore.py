"""Quiz state in the database: learners, shown questions, answers, review cards and exams."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.database import Database, as_utc, utcnow
from bot.store.tables import answers, cards, exams, showings, users


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Showing:
    """A question as shown to one learner, in one option order."""

    id: str
    tenant: str
    user_id: str
    question_id: str
    mode: str
    scope: str
    option_order: tuple[int, ...]
    picked: tuple[int, ...]
    exam_id: str | None
    shown_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class CardRow:
    """A learner's spaced-repetition card for one item."""

    item_id: str
    module: str
    card: dict[str, Any]
    due: datetime


@dataclass(frozen=True)
class Exam:
    """A practice exam in progress or finished."""

    id: str
    tenant: str
    user_id: str
    scope: str
    question_ids: tuple[str, ...]
    position: int
    status: str
    started_at: datetime
    deadline: datetime | None
    finished_at: datetime | None
    pass_mark: int


@dataclass(frozen=True)
class AnswerRow:
    """One recorded answer."""

    question_id: str
    module: str
    mode: str
    chosen: tuple[int, ...]
    correct: bool
    answered_at: datetime


@dataclass(frozen=True)
class AnswerSummary:
    """A learner's answers in aggregate: what stats and question selection need, computed by
    the database (a few rows, however many answers there are)."""

    total: int
    correct: int
    per_module: dict[str, tuple[int, int]]  # module -> (correct, answered)
    questions: frozenset[str]  # every question ever answered
    days: frozenset[date]  # UTC days with at least one answer (empty unless asked for)


def _showing(row: Any) -> Showing:
    return Showing(row.id, row.tenant, row.user_id, row.question_id, row.mode, row.scope,
                   tuple(row.option_order), tuple(row.picked or ()), row.exam_id,
                   as_utc(row.shown_at) or utcnow(), as_utc(row.answered_at))


# Given the learner's current card for an item (None: never reviewed), the new card and its due
# time; called inside the answer's transaction, so the read and the write cannot interleave.
Review = Callable[[dict[str, Any] | None], tuple[dict[str, Any], datetime]]


@dataclass(frozen=True)
class ExamStep:
    """Move an exam past `position` in the answer's own transaction (`total` questions)."""

    exam_id: str
    position: int
    total: int


def _exam(row: Any) -> Exam:
    return Exam(row.id, row.tenant, row.user_id, row.scope, tuple(row.question_ids), row.position,
                row.status, as_utc(row.started_at) or utcnow(), as_utc(row.deadline),
                as_utc(row.finished_at), row.pass_mark)


class QuizStore:
    """Every read and write the quiz, review, exam and progress features need."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    @asynccontextmanager
    async def _tx(self, conn: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        """The caller's transaction when it passes one (one unit of work), else a new one."""
        if conn is not None:
            yield conn
            return
        async with self.db.engine.begin() as own:
            yield own

    async def touch_user(self, tenant: str, user_id: str, name: str,
                         conn: AsyncConnection | None = None) -> None:
        """Create the learner on first contact; keep the display name fresh."""
        now = self.clock()
        stmt = self.db.upsert(users).values(tenant=tenant, user_id=user_id, name=name or user_id,
                                          created_at=now, last_seen_at=now)
        set_: dict[str, Any] = {"last_seen_at": now}
        if name:
            set_["name"] = name
        stmt = stmt.on_conflict_do_update(index_elements=["tenant", "user_id"], set_=set_)
        async with self._tx(conn) as tx:
            await tx.execute(stmt)

    # -- showings ---------------------------------------------------------------------------

    async def show(self, tenant: str, user_id: str, question_id: str, mode: str,
                   option_order: list[int], exam_id: str | None = None,
                   scope: str = "", conn: AsyncConnection | None = None) -> Showing:
        """Record that a question is being shown; its id routes the answer buttons."""
        showing_id = new_id()
        now = self.clock()
        async with self._tx(conn) as tx:
            await tx.execute(update(users).where(users.c.tenant == tenant,
                                                 users.c.user_id == user_id)
                             .values(last_question=question_id))
            await tx.execute(showings.insert().values(
                id=showing_id, tenant=tenant, user_id=user_id, question_id=question_id, mode=mode,
                scope=scope, option_order=option_order, picked=[], exam_id=exam_id, shown_at=now,
                answered_at=None))
        return Showing(showing_id, tenant, user_id, question_id, mode, scope,
                       tuple(option_order), (),
                       exam_id, now, None)

    async def get_showing(self, showing_id: str) -> Showing | None:
        row = await self.db.first(select(showings).where(showings.c.id == showing_id))
        return _showing(row) if row else None

    async def last_question(self, tenant: str, user_id: str) -> str | None:
        """The question most recently shown to this learner (never repeat it next)."""
        stmt = select(users.c.last_question).where(users.c.tenant == tenant,
                                                   users.c.user_id == user_id)
        row = await self.db.first(stmt)
        return row[0] if row else None

    async def pick(self, showing_id: str, option: int) -> tuple[int, ...] | None:
        """Add one picked option of a multiple-select question; None once it was answered."""
        async with self.db.engine.begin() as conn:
            row = (await conn.execute(
                select(showings.c.picked, showings.c.answered_at)
                .where(showings.c.id == showing_id).with_for_update())).first()
            if row is None or row.answered_at is not None:
                return None
            picked = sorted(set(row.picked or ()) | {option})
            await conn.execute(update(showings).where(showings.c.id == showing_id)
                               .values(picked=picked))
        return tuple(picked)

    async def toggle(self, showing_id: str, option: int) -> tuple[int, ...] | None:
        """Pick an option of a multiple-select question, or un-pick it when it was picked (one
        atomic read and write); the picks after it, or None once the showing was answered."""
        async with self.db.engine.begin() as conn:
            row = (await conn.execute(
                select(showings.c.picked, showings.c.answered_at)
                .where(showings.c.id == showing_id).with_for_update())).first()
            if row is None or row.answered_at is not None:
                return None
            picked = set(row.picked or ())
            picked = picked - {option} if option in picked else picked | {option}
            await conn.execute(update(showings).where(showings.c.id == showing_id,
                                                      showings.c.answered_at.is_(None))
                               .values(picked=sorted(picked)))
        return tuple(sorted(picked))

    async def latest_showing(self, tenant: str, user_id: str, since: datetime,
                             skip_modes: tuple[str, ...] = ("daily",)) -> Showing | None:
        """The learner's most recent showing at or after `since` (answered or not), leaving out
        `skip_modes` (a daily channel question is answered the moment it is recorded): what a
        typed letter answers."""
        # two showings in the same instant (a coarse clock): the one the learner's
        # `last_question` names is the later one
        shown_last = case((showings.c.question_id == users.c.last_question, 1), else_=0)
        stmt = (select(showings)
                .select_from(showings.outerjoin(users, and_(users.c.tenant == showings.c.tenant,
                                                            users.c.user_id == showings.c.user_id)))
                .where(showings.c.tenant == tenant, showings.c.user_id == user_id,
                       showings.c.mode.not_in(skip_modes), showings.c.shown_at >= since)
                .order_by(showings.c.shown_at.desc(), shown_last.desc()).limit(1))
        row = await self.db.first(stmt)
        return _showing(row) if row else None

    async def wrong_since(self, tenant: str, user_id: str, since: datetime) -> list[str]:
        """Question ids whose latest answer since `since` was wrong (answered wrong today and
        not answered right since), oldest mistake first."""
        stmt = (select(answers.c.question_id, answers.c.correct, answers.c.answered_at)
                .where(answers.c.tenant == tenant, answers.c.user_id == user_id,
                       answers.c.answered_at >= since)
                .order_by(answers.c.answered_at, answers.c.id))
        latest: dict[str, bool] = {}
        for row in await self.db.rows(stmt):
            latest.pop(row.question_id, None)  # keep insertion order = order of the latest answer
            latest[row.question_id] = bool(row.correct)
        return [qid for qid, correct in latest.items() if not correct]

    async def record_answer(self, showing: Showing, chosen: tuple[int, ...], correct: bool,
                            module: str, card: dict[str, Any] | None, card_due: datetime | None,
                            when: datetime | None = None, *, review: Review | None = None,
                            exam_step: ExamStep | None = None,
                            conn: AsyncConnection | None = None) -> bool:
        """Claim the showing and store the answer, the card and the exam's step in one
        transaction: all of it happens, or (a crash, a lost race) none of it.

        The card is `card`/`card_due`, or what `review` makes of the current card, read in the
        same transaction. Returns False (and changes nothing) when the showing was already
        answered: a double click or a retried delivery counts once.
        """
        now = when or self.clock()
        claim = (update(showings)
                 .where(showings.c.id == showing.id, showings.c.answered_at.is_(None))
                 .values(answered_at=now, picked=list(chosen)))
        elapsed = int((now - showing.shown_at).total_seconds() * 1000)
        async with self._tx(conn) as tx:
            if (await tx.execute(claim)).rowcount != 1:
                return False
            await tx.execute(answers.insert().values(
                showing_id=showing.id, tenant=showing.tenant, user_id=showing.user_id,
                question_id=showing.question_id, module=module, mode=showing.mode,
                chosen=list(chosen), correct=correct, elapsed_ms=max(elapsed, 0),
                answered_at=now))
            if review is not None:
                existing = await self.get_card(showing.tenant, showing.user_id,
                                               showing.question_id, conn=tx, for_update=True)
                card, card_due = review(existing.card if existing else None)
            if card is not None and card_due is not None:
                await self._save_card(tx, showing.tenant, showing.user_id,
                                      showing.question_id, module, card, card_due, now)
            if exam_step is not None:
                await self._step_exam(tx, exam_step, now)
        return True

    async def _step_exam(self, conn: AsyncConnection, step: ExamStep, now: datetime) -> None:
        """Past the answered question; past the last one the exam is finished."""
        last = step.position + 1 >= step.total
        values: dict[str, Any] = {"position": step.position + 1}
        if last:
            values.update(status="finished", finished_at=now)
        await conn.execute(update(exams).where(exams.c.id == step.exam_id,
                                               exams.c.position == step.position,
                                               exams.c.status == "open").values(**values))

    # -- cards ------------------------------------------------------------------------------

    async def _save_card(self, conn: AsyncConnection, tenant: str, user_id: str, item_id: str,
                         module: str, card: dict[str, Any], due: datetime,
                         now: datetime) -> None:
        stmt = self.db.upsert(cards).values(tenant=tenant, user_id=user_id, item_id=item_id,
                                          module=module, card=card, due=due, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant", "user_id", "item_id"],
            set_={"card": card, "due": due, "updated_at": now, "module": module})
        await conn.execute(stmt)

    async def save_card(self, tenant: str, user_id: str, item_id: str, module: str,
                        card: dict[str, Any], due: datetime,
                        conn: AsyncConnection | None = None) -> None:
        async with self._tx(conn) as tx:
            await self._save_card(tx, tenant, user_id, item_id, module, card, due, self.clock())

    async def get_card(self, tenant: str, user_id: str, item_id: str,
                       conn: AsyncConnection | None = None,
                       for_update: bool = False) -> CardRow | None:
        stmt = select(cards).where(cards.c.tenant == tenant, cards.c.user_id == user_id,
                                   cards.c.item_id == item_id)
        if for_update:
            stmt = stmt.with_for_update()
        if conn is not None:
            row = (await conn.execute(stmt)).first()
        else:
            row = await self.db.first(stmt)
        return CardRow(row.item_id, row.module, row.card, as_utc(row.due) or utcnow()) \
            if row else None

    async def cards(self, tenant: str, user_id: str, light: bool = False) -> list[CardRow]:
        """The learner's cards; `light` leaves the FSRS state out (`card` is {}): enough to
        know what is due and what was seen, without decoding every card."""
        if light:
            stmt = select(cards.c.item_id, cards.c.module, cards.c.due).where(
                cards.c.tenant == tenant, cards.c.user_id == user_id)
            return [CardRow(r.item_id, r.module, {}, as_utc(r.due) or utcnow())
                    for r in await self.db.rows(stmt)]
        stmt = select(cards).where(cards.c.tenant == tenant, cards.c.user_id == user_id)
        rows = await self.db.rows(stmt)
        return [CardRow(r.item_id, r.module, r.card, as_utc(r.due) or utcnow()) for r in rows]

    # -- answers and progress ---------------------------------------------------------------

    async def answers(self, tenant: str, user_id: str) -> list[AnswerRow]:
        stmt = (select(answers).where(answers.c.tenant == tenant, answers.c.user_id == user_id)
                .order_by(answers.c.answered_at))
        rows = await self.db.rows(stmt)
        return [AnswerRow(r.question_id, r.module, r.mode, tuple(r.chosen), bool(r.correct),
                          as_utc(r.answered_at) or utcnow()) for r in rows]

    async def answer_summary(self, tenant: str, user_id: str,
                             with_days: bool = False) -> AnswerSummary:
        """Counts per module and question (and the days answered), grouped in the database."""
        correct = func.sum(case((answers.c.correct, 1), else_=0))
        mine = (answers.c.tenant == tenant, answers.c.user_id == user_id)
        stmt = (select(answers.c.module, answers.c.question_id, correct.label("correct"),
                       func.count().label("answered"))
                .where(*mine).group_by(answers.c.module, answers.c.question_id))
        per_module: dict[str, list[int]] = {}
        questions: set[str] = set()
        for row in await self.db.rows(stmt):
            counts = per_module.setdefault(row.module, [0, 0])
            counts[0] += int(row.correct or 0)
            counts[1] += int(row.answered)
            questions.add(row.question_id)
        days: set[date] = set()
        if with_days:
            if self.db.dialect == "postgresql":
                day = func.date(func.timezone("UTC", answers.c.answered_at))
            else:  # SQLite keeps UTC timestamps as text
                day = func.date(answers.c.answered_at)
            for row in await self.db.rows(select(day.label("day")).where(*mine).distinct()):
                value = row.day
                days.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        total = sum(n for _, n in per_module.values())
        right = sum(c for c, _ in per_module.values())
        return AnswerSummary(total, right, {m: (c, n) for m, (c, n) in per_module.items()},
                             frozenset(questions), frozenset(days))

    async def leaderboard(self, tenant: str, since: datetime | None,
                          limit: int = 10) -> list[tuple[str, str, int, int]]:
        """(user_id, name, correct, answered), best first; ties broken by accuracy."""
        correct = func.sum(case((answers.c.correct, 1), else_=0))
        answered = func.count(answers.c.id)
        conditions = [answers.c.tenant == tenant]
        if since is not None:
            conditions.append(answers.c.answered_at >= since)
        stmt = (select(answers.c.user_id, users.c.name, correct.label("correct"),
                       answered.label("answered"))
                .select_from(answers.outerjoin(users, and_(users.c.tenant == answers.c.tenant,
                                                           users.c.user_id == answers.c.user_id)))
                .where(*conditions)
                .group_by(answers.c.user_id, users.c.name))
        rows = await self.db.rows(stmt)
        ranked = sorted(
            ((r.user_id, r.name or r.user_id, int(r.correct or 0), int(r.answered)) for r in rows),
            key=lambda r: (-r[2], -(r[2] / r[3] if r[3] else 0), r[1]))
        return ranked[:limit]

    # -- exams ------------------------------------------------------------------------------

    async def open_exam(self, tenant: str, user_id: str) -> Exam | None:
        stmt = (select(exams).where(exams.c.tenant == tenant, exams.c.user_id == user_id,
                                    exams.c.status == "open")
                .order_by(exams.c.started_at.desc()).limit(1))
        row = await self.db.first(stmt)
        return _exam(row) if row else None

    async def get_exam(self, exam_id: str) -> Exam | None:
        row = await self.db.first(select(exams).where(exams.c.id == exam_id))
        return _exam(row) if row else None

    async def start_exam(self, tenant: str, user_id: str, scope: str, question_ids: list[str],
                         minutes: int | None, pass_mark: int) -> Exam:
        now = self.clock()
        exam_id = new_id()
        deadline = now + timedelta(minutes=minutes) if minutes else None
        async with self.db.engine.begin() as conn:
            await conn.execute(exams.insert().values(
                id=exam_id, tenant=tenant, user_id=user_id, scope=scope,
                question_ids=question_ids, position=0, status="open", started_at=now,
                deadline=deadline, finished_at=None, pass_mark=pass_mark))
        return Exam(exam_id, tenant, user_id, scope, tuple(question_ids), 0, "open", now,
                    deadline, None, pass_mark)

    async def advance_exam(self, exam: Exam, from_position: int) -> bool:
        """Move the exam past `from_position` once (a repeated answer does not skip ahead)."""
        stmt = (update(exams).where(exams.c.id == exam.id, exams.c.position == from_position,
                                    exams.c.status == "open")
                .values(position=from_position + 1))
        return await self.db.execute(stmt) == 1

    async def close_exam(self, exam: Exam, status: str) -> bool:
        stmt = (update(exams).where(exams.c.id == exam.id, exams.c.status == "open")
                .values(status=status, finished_at=self.clock()))
        return await self.db.execute(stmt) == 1

    async def exam_answers(self, exam_id: str) -> dict[str, AnswerRow]:
        stmt = (select(answers, showings.c.exam_id)
                .select_from(answers.join(showings, showings.c.id == answers.c.showing_id))
                .where(showings.c.exam_id == exam_id))
        rows = await self.db.rows(stmt)
        return {r.question_id: AnswerRow(r.question_id, r.module, r.mode, tuple(r.chosen),
                                         bool(r.correct), as_utc(r.answered_at) or utcnow())
                for r in rows}

    async def exam_picks(self, exam_id: str) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
        """question id -> (option order as shown, options picked) for an exam's showings, the
        latest showing of each question: what the scorecard says the learner picked."""
        stmt = (select(showings.c.question_id, showings.c.option_order, showings.c.picked)
                .where(showings.c.exam_id == exam_id).order_by(showings.c.shown_at))
        return {r.question_id: (tuple(r.option_order), tuple(r.picked or ()))
                for r in await self.db.rows(stmt)}

    async def exam_showing(self, exam_id: str, question_id: str) -> Showing | None:
        stmt = (select(showings).where(showings.c.exam_id == exam_id,
                                       showings.c.question_id == question_id)
                .order_by(showings.c.shown_at.desc()).limit(1))
        row = await self.db.first(stmt)
        return _showing(row) if row else None

