"""Practice exams: n questions one at a time, no feedback until the end, then a scorecard.

`exam [n] [topic] [30m]` starts one (25 questions from the whole course by default, an optional
time limit in minutes). An exam in progress lives in the database, survives restarts and is
resumed (`exam resume`) or abandoned (`exam abandon`). Answers are recorded as they come; the
end shows the score, pass or fail against the pass mark, a per-module breakdown and every
missed question with its explanation. Past the time limit, unanswered questions count as wrong.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict

from bot.knowledge.schema import KnowledgeBase, Question
from bot.model import Action, Choice, Context, Field, Message, Reply
from bot.quiz.feature import QuizFeature, unknown_scope_reply
from bot.quiz.scope import resolve_scope
from bot.router import Router
from bot.store.quizstore import Exam, Showing
from bot.text import bar, small_number

DEFAULT_QUESTIONS = 25
MAX_QUESTIONS = 100
RESUME_ACTION = "exam.resume"
ABANDON_ACTION = "exam.abandon"
MINUTES_RE = re.compile(r"^([0-9]{1,3})\s*(?:m|min|mins|minutes?)$")
ASCII_DIGITS = re.compile(r"[0-9]+")


def pick_exam_questions(kb: KnowledgeBase, pool: list[str], n: int,
                        rng: random.Random) -> list[str]:
    """n questions spread over modules in proportion to the pool, in random order."""
    by_module: dict[str, list[str]] = defaultdict(list)
    for qid in pool:
        by_module[kb.module_of(kb.questions[qid].section)].append(qid)
    n = min(n, len(pool))
    chosen: list[str] = []
    quotas = {m: n * len(qs) / len(pool) for m, qs in by_module.items()}
    for module, quota in quotas.items():
        chosen += rng.sample(by_module[module], min(int(quota), len(by_module[module])))
    rest = [q for q in pool if q not in set(chosen)]
    chosen += rng.sample(rest, n - len(chosen))
    rng.shuffle(chosen)
    return chosen


class ExamFeature:
    """The `exam` command, resume/abandon buttons, and what happens after each exam answer."""

    def __init__(self, quiz: QuizFeature, pass_mark: int = 70) -> None:
        self.quiz = quiz
        self.kb = quiz.kb
        self.store = quiz.store
        self.pass_mark = pass_mark
        quiz.exam_hook = self.after_answer

    def register(self, router: Router) -> None:
        router.command("exam", "exam [n] [topic] [30m]",
                       "a practice exam: score, pass/fail and breakdown at the end", self.cmd_exam)
        router.action(RESUME_ACTION, self.on_resume)
        router.action(ABANDON_ACTION, self.on_abandon)

    async def cmd_exam(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        words = args.split()
        open_exam = await self.store.open_exam(ctx.tenant, ctx.user)
        if words[:1] == ["resume"]:
            if open_exam is None:
                return [Reply("You have no exam in progress. Start one with `exam`.",
                              private=True)]
            return await self.resume(ctx, open_exam)
        if words[:1] == ["abandon"]:
            if open_exam is None:
                return [Reply("You have no exam in progress.", private=True)]
            return await self.abandon(open_exam)
        if open_exam is not None:
            return [self._in_progress(open_exam)]
        n, minutes, rest = DEFAULT_QUESTIONS, None, []
        for word in words:
            if ASCII_DIGITS.fullmatch(word):
                number = small_number(word)  # 4,300 digits must not reach int()
                n = max(1, min(number if number is not None else MAX_QUESTIONS,
                               MAX_QUESTIONS))
            elif (match := MINUTES_RE.match(word.lower())) is not None:
                minutes = max(1, int(match.group(1)))
            else:
                rest.append(word)
        scope = resolve_scope(self.kb, " ".join(rest))
        if scope is None or not scope.question_ids:
            return [unknown_scope_reply(self.kb, " ".join(rest))]
        await self.store.touch_user(ctx.tenant, ctx.user, ctx.user_name)
        ids = pick_exam_questions(self.kb, list(scope.question_ids), n, self.quiz.rng)
        exam = await self.store.start_exam(ctx.tenant, ctx.user, scope.key, ids, minutes,
                                           self.pass_mark)
        limit = f", {minutes} minutes" if minutes else ""
        intro = Reply(f"**Practice exam**: {len(ids)} questions on {scope.label}{limit}. "
                      f"Pass mark {self.pass_mark} %. No feedback until the end; "
                      "`exam abandon` stops it.", private=True)
        return [intro, await self._show_position(ctx, exam, 0)]

    def _in_progress(self, exam: Exam) -> Reply:
        return Reply(
            f"You have an exam in progress (question {exam.position + 1} of "
            f"{len(exam.question_ids)}). Resume it or abandon it?",
            choices=(Choice(RESUME_ACTION, "Resume exam", exam.id),
                     Choice(ABANDON_ACTION, "Abandon exam", exam.id)), private=True)

    async def _own_open_exam(self, action: Action) -> Exam | None:
        exam = await self.store.get_exam(action.value)
        ctx = action.context
        if exam is None or exam.tenant != ctx.tenant or exam.user_id != ctx.user:
            return None
        return exam if exam.status == "open" else None

    async def on_resume(self, action: Action) -> list[Reply]:
        exam = await self._own_open_exam(action)
        if exam is None:
            return [Reply("That exam is no longer open. Start a new one with `exam`.",
                          private=True)]
        return await self.resume(action.context, exam)

    async def on_abandon(self, action: Action) -> list[Reply]:
        exam = await self._own_open_exam(action)
        if exam is None:
            return [Reply("That exam is no longer open.", private=True)]
        return await self.abandon(exam)

    async def abandon(self, exam: Exam) -> list[Reply]:
        await self.store.close_exam(exam, "abandoned")
        return [Reply(f"Exam abandoned after {exam.position} of {len(exam.question_ids)} "
                      "questions. Your answers so far still count toward your reviews.",
                      private=True, replace=True)]

    async def resume(self, ctx: Context, exam: Exam) -> list[Reply]:
        if self._timed_out(exam) or exam.position >= len(exam.question_ids):
            return await self.finish(exam)
        return [await self._show_position(ctx, exam, exam.position)]

    def _timed_out(self, exam: Exam) -> bool:
        return exam.deadline is not None and self.quiz.clock() > exam.deadline

    async def _show_position(self, ctx: Context, exam: Exam, position: int,
                             replace: bool = False) -> Reply:
        from bot.quiz.render import question_reply

        question = self.kb.questions[exam.question_ids[position]]
        heading = f"Exam question {position + 1} of {len(exam.question_ids)}"
        existing = await self.store.exam_showing(exam.id, question.id)
        if existing is not None and existing.answered_at is None:
            return question_reply(self.kb, question, existing, heading, replace=replace)
        return await self.quiz.show(ctx, question, "exam", heading, exam_id=exam.id,
                                    replace=replace)

    async def after_answer(self, ctx: Context, showing: Showing, question: Question,
                           correct: bool) -> list[Reply]:
        """The next step after an exam answer (the answer moved the exam on in its own
        transaction): the next question, or the scorecard after the last one or a timeout.
        Asked again for the same answer, it gives the same step."""
        assert showing.exam_id is not None
        exam = await self.store.get_exam(showing.exam_id)
        if exam is None or exam.status == "abandoned":
            return [Reply("This exam is closed; that answer was recorded for your reviews.",
                          private=True)]
        if exam.status == "finished" or exam.position >= len(exam.question_ids) \
                or self._timed_out(exam):
            return await self.finish(exam)
        return [await self._show_position(ctx, exam, exam.position, replace=True)]

    async def finish(self, exam: Exam) -> list[Reply]:
        """Close the exam once and show the scorecard."""
        await self.store.close_exam(exam, "finished")
        answered = await self.store.exam_answers(exam.id)
        total = len(exam.question_ids)
        right = sum(1 for qid in exam.question_ids if answered.get(qid) and answered[qid].correct)
        percent = round(100 * right / total) if total else 0
        passed = percent >= exam.pass_mark
        per_module: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for qid in exam.question_ids:
            module = self.kb.module_of(self.kb.questions[qid].section) if qid in \
                self.kb.questions else "Retired questions"
            per_module[module][1] += 1
            per_module[module][0] += bool(answered.get(qid) and answered[qid].correct)
        timed_out = len(answered) < total
        lines = [f"**Exam finished: {right}/{total} ({percent} %), "
                 f"{'PASS' if passed else 'FAIL'}** (pass mark {exam.pass_mark} %)"]
        if timed_out:
            lines.append(f"_Time ran out: {total - len(answered)} unanswered question(s) "
                         "count as wrong._")
        fields = tuple(Field(module, f"{bar(c / n)} {c}/{n}")
                       for module, (c, n) in per_module.items())
        scorecard = Reply("\n".join(lines), fields=fields, private=True, replace=True)
        missed = [qid for qid in exam.question_ids
                  if qid in self.kb.questions and not (answered.get(qid)
                                                       and answered[qid].correct)]
        review_lines = ["**Missed questions**"] if missed else ["No missed questions. Well done!"]
        for qid in missed:
            question = self.kb.questions[qid]
            answer = "; ".join(question.correct_texts)
            review_lines.append(f"- {question.prompt}\n  **Answer:** {answer}. "
                                f"{question.explanation} (`ask {question.entry}`)")
        return [scorecard, Reply("\n".join(review_lines), private=True,
                                 choices=(Choice("quiz.next", "Practise with a quiz", "quiz:"),))]
