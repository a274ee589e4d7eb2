"""The `quiz` and `review` commands and the answer buttons shared with practice exams."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot import telemetry
from bot.knowledge.schema import KnowledgeBase, Question
from bot.model import Action, Context, Message, Reply
from bot.quiz import memory
from bot.quiz.render import (
    ANSWER_ACTION,
    NEXT_ACTION,
    START_ACTION,
    exam_heading,
    feedback_reply,
    how_many,
    question_reply,
)
from bot.quiz.scope import Scope, resolve_scope
from bot.quiz.selection import focus_first, needs_card_state, next_question, review_queue
from bot.router import Router
from bot.store.database import utcnow
from bot.store.quizstore import CardRow, ExamStep, QuizStore, Showing
from bot.text import small_number

Clock = Callable[[], datetime]
ExamHook = Callable[[Context, Showing, Question, bool], Awaitable[list[Reply]]]
# Given an exam showing about to be answered: the replies that end an exam past its deadline
# (the answer is not recorded), or None when the answer is in time.
LateHook = Callable[[Context, Showing], Awaitable[list[Reply] | None]]


def end_of_day(now: datetime) -> datetime:
    """The last moment of `now`'s UTC day: 'due today' means due before this."""
    return now.replace(hour=23, minute=59, second=59, microsecond=0)


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: 'answered today' means answered after this."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def unknown_scope_reply(kb: KnowledgeBase, text: str) -> Reply:
    from bot.text import escape_md

    topics = ", ".join(f"`{d.id}`" for d in kb.domains)
    return Reply(f"I don't know the topic \"{escape_md(text)}\". Try one of: {topics}, a module "
                 "such as `Core technologies`, a section such as `Amazon EBS`, or a service "
                 "such as `lambda`.", private=True)


class QuizFeature:
    """Serves questions, takes answers exactly once and schedules reviews."""

    def __init__(self, kb: KnowledgeBase, store: QuizStore, rng: random.Random | None = None,
                 clock: Clock = utcnow) -> None:
        self.kb = kb
        self.store = store
        self.rng = rng or random.Random()
        self.clock = clock
        self.exam_hook: ExamHook | None = None
        self.exam_late: LateHook | None = None
        self.review_extras: list[Callable[[Context, datetime], Awaitable[Reply | None]]] = []

    def register(self, router: Router) -> None:
        router.command("quiz", "quiz [topic]", "one question now, with feedback", self.cmd_quiz)
        router.command("review", "review", "the questions due for you today", self.cmd_review)
        router.action(ANSWER_ACTION, self.on_answer)
        router.action(NEXT_ACTION, self.on_next)
        router.action(START_ACTION, self.on_start)

    async def cmd_quiz(self, message: Message, args: str) -> list[Reply]:
        scope = resolve_scope(self.kb, args)
        if scope is None or not scope.question_ids:
            return [unknown_scope_reply(self.kb, args)]
        return await self.serve(message.context, scope, "quiz")

    async def cmd_review(self, message: Message, args: str) -> list[Reply]:
        return await self.serve(message.context, resolve_scope(self.kb, "") or Scope("", "", ()),
                                "review")

    async def on_next(self, action: Action) -> list[Reply]:
        mode, _, key = action.value.partition(":")
        scope = resolve_scope(self.kb, key) or resolve_scope(self.kb, "")
        assert scope is not None
        return await self.serve(action.context, scope, "review" if mode == "review" else "quiz")

    async def on_start(self, action: Action) -> list[Reply]:
        scope = resolve_scope(self.kb, action.value)
        if scope is None:
            return [unknown_scope_reply(self.kb, action.value)]
        return await self.serve(action.context, scope, "quiz")

    async def serve(self, ctx: Context, scope: Scope, mode: str) -> list[Reply]:
        """Show the next question of `scope` to the learner (review: only what is due)."""
        await self.store.touch_user(ctx.tenant, ctx.user, ctx.user_name)
        now = self.clock()
        cards = await self.store.cards(ctx.tenant, ctx.user, light=True)  # due dates and ids
        question_cards = [c for c in cards if c.item_id in self.kb.questions]
        last = await self.store.last_question(ctx.tenant, ctx.user)
        if mode == "review":
            mistakes = [q for q in await self.store.wrong_since(ctx.tenant, ctx.user,
                                                                 start_of_day(now))
                        if q in self.kb.questions]
            due = review_queue(question_cards, mistakes, end_of_day(now))
            choice = next((q for q in due if q != last), due[0] if due else None)
            extras = [r for extra in self.review_extras
                      if (r := await extra(ctx, end_of_day(now))) is not None]
            if choice is None:
                return [self._nothing_due(question_cards), *extras]
            heading = f"Review ({len(due)} due today)"
            return [await self.show(ctx, self.kb.questions[choice], mode, heading), *extras]
        else:
            answers = await self.store.answer_summary(ctx.tenant, ctx.user)
            # an entry's own questions first while any is new or due, then its section
            pool = focus_first(scope.focus, question_cards, answers, last, now) \
                or list(scope.question_ids)
            if needs_card_state(pool, question_cards, answers, last, now):
                question_cards = [c for c in await self.store.cards(ctx.tenant, ctx.user)
                                  if c.item_id in self.kb.questions]
            choice = next_question(self.kb, pool, question_cards, answers, last, now, self.rng)
            if choice is None:
                return [unknown_scope_reply(self.kb, scope.key)]
            heading = "Quiz" if not scope.key else f"Quiz · {scope.label}"
        return [await self.show(ctx, self.kb.questions[choice], mode, heading,
                                next_scope=scope.key)]

    def _nothing_due(self, cards: list[CardRow]) -> Reply:
        if not cards:
            return Reply("Nothing to review yet: questions come back here after you answer "
                         "them. Start with `quiz`.", private=True)
        upcoming = min(c.due for c in cards)
        return Reply(f"Nothing is due today. Your next review is due "
                     f"{upcoming:%A %d %B %Y} (UTC). Keep going with `quiz`.", private=True)

    async def show(self, ctx: Context, question: Question, mode: str, heading: str,
                   next_scope: str = "", exam_id: str | None = None,
                   replace: bool = False) -> Reply:
        """Record a showing with freshly shuffled options and render it."""
        order = list(range(len(question.options)))
        if question.kind != "truefalse":
            self.rng.shuffle(order)
        showing = await self.store.show(ctx.tenant, ctx.user, question.id, mode, order,
                                        exam_id=exam_id, scope=next_scope)
        return question_reply(self.kb, question, showing, heading, replace=replace)

    async def _heading_again(self, showing: Showing) -> str:
        """The heading a question had when shown (an exam's with the time left now), for
        showing it again after a pick."""
        if showing.exam_id:
            exam = await self.store.get_exam(showing.exam_id)
            if exam is not None and showing.question_id in exam.question_ids:
                return exam_heading(exam, showing.question_id, self.clock())
        return _mode_heading(showing.mode)

    async def on_answer(self, action: Action) -> list[Reply]:
        """A press of an option button: checked, counted once, then feedback or the next step."""
        ctx = action.context
        showing_id, _, raw_option = action.value.partition(":")
        showing = await self.store.get_showing(showing_id) if showing_id else None
        option = small_number(raw_option, max_digits=2)  # button values are not trusted
        if showing is None or option is None:
            return [Reply("That question has expired. Type `quiz` for a new one.", private=True)]
        if showing.tenant != ctx.tenant or showing.user_id != ctx.user:
            return [Reply("That question was for someone else. Type `quiz` for your own.",
                          private=True)]
        question = self.kb.questions.get(showing.question_id)
        if question is None or option not in showing.option_order:
            return [Reply("That question is no longer in the question bank. Type `quiz` for "
                          "another.", private=True)]
        if showing.exam_id is not None and self.exam_late is not None:
            # the deadline is checked before anything is recorded: a late answer earns nothing
            late = await self.exam_late(ctx, showing)
            if late is not None:
                return late
        if showing.answered_at is not None:
            return await self._answered_again(ctx, showing, question, option)
        chosen: tuple[int, ...] = (option,)
        if question.kind == "multiple":
            # a press picks the option, a press on a picked one un-picks it; the answer is
            # recorded when the required number of options is picked
            picked = await self.store.toggle(showing.id, option)
            if picked is None:
                return await self._answered_again(ctx, showing, question, option)
            if len(picked) < how_many(question):
                fresh = await self.store.get_showing(showing.id)
                assert fresh is not None
                return [question_reply(self.kb, question, fresh,
                                       await self._heading_again(fresh), replace=True)]
            chosen = picked
        correct = set(chosen) == set(question.answer)
        now = self.clock()
        rating = memory.rating_for(correct, now - showing.shown_at, timed=showing.mode == "quiz")
        module = self.kb.module_of(question.section)
        step = await self._exam_step(showing, question)
        if not await self.store.record_answer(
                showing, chosen, correct, module, None, None, now,
                review=lambda card: memory.review(card, rating, now), exam_step=step):
            return await self._answered_again(ctx, showing, question, option)
        telemetry.count("answers", mode=showing.mode, correct=correct)
        return await self._after(ctx, showing, question, chosen, correct)

    async def _exam_step(self, showing: Showing, question: Question) -> ExamStep | None:
        """An exam answer moves the exam on in the answer's own transaction."""
        if showing.exam_id is None:
            return None
        exam = await self.store.get_exam(showing.exam_id)
        if exam is None or question.id not in exam.question_ids:
            return None
        return ExamStep(exam.id, exam.question_ids.index(question.id), len(exam.question_ids))

    async def _after(self, ctx: Context, showing: Showing, question: Question,
                     chosen: tuple[int, ...], correct: bool) -> list[Reply]:
        """What follows a recorded answer: feedback, or the exam's next step."""
        if showing.mode == "exam" and self.exam_hook is not None:
            return await self.exam_hook(ctx, showing, question, correct)
        next_label = "Next review" if showing.mode == "review" else "Next question"
        next_value = f"{showing.mode}:{showing.scope}"
        return [feedback_reply(self.kb, question, showing, chosen, correct, next_value,
                               next_label)]

    async def _answered_again(self, ctx: Context, showing: Showing, question: Question,
                              option: int) -> list[Reply]:
        """A press on an answered question. The same answer again (a retried delivery, a
        restarted replica finishing a command, a double click) gets the same result as the
        first time; a different option is refused: the first answer counts."""
        fresh = await self.store.get_showing(showing.id)
        if fresh is None or fresh.answered_at is None or option not in fresh.picked:
            return [already_answered()]
        chosen = fresh.picked
        replies = await self._after(ctx, fresh, question, chosen,
                                    set(chosen) == set(question.answer))
        if fresh.mode == "exam":
            return replies
        first, *rest = replies
        note = "_You already answered this question; your first answer is the one that counts._"
        return [dataclasses.replace(first, text=f"{note}\n{first.text}"), *rest]


def _mode_heading(mode: str) -> str:
    return {"review": "Review", "exam": "Exam question"}.get(mode, "Quiz")


def already_answered() -> Reply:
    return Reply("You already answered this question; your first answer is the one that "
                 "counts.", private=True)

