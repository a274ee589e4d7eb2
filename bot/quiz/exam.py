"""Practice exams: n questions one at a time, no feedback until the end, then a scorecard.

`exam [n] [topic] [30m]` starts one (25 questions from the whole course by default, 1 to 100;
an optional time limit from 1 minute to 10 hours, written `45m`, `2h` or `1h30m`). An exam in
progress lives in the database, survives restarts and is resumed (`exam resume`) or abandoned
(`exam abandon`). Answers are recorded as they come; every question shows the time left. An
answer after the deadline earns nothing: it ends the exam ("Time's up") and unanswered questions
count as wrong. The end shows the score, pass or fail against the pass mark, a per-module
breakdown with the weakest sections, and every missed question with what the learner picked,
why that was wrong, the right answer and the explanation.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict

from bot.durations import describe_minutes, parse_minutes, plural
from bot.knowledge.schema import KnowledgeBase, Question
from bot.model import Action, Choice, Context, Field, Message, Reply
from bot.quiz.feature import QuizFeature, unknown_scope_reply
from bot.quiz.render import LETTERS, NEXT_ACTION, exam_heading, question_reply
from bot.quiz.scope import resolve_scope
from bot.router import Router
from bot.store.quizstore import AnswerRow, Exam, Showing
from bot.text import bar, small_number

DEFAULT_QUESTIONS = 25
MAX_QUESTIONS = 100
MAX_MINUTES = 600
RESUME_ACTION = "exam.resume"
ABANDON_ACTION = "exam.abandon"
ASCII_DIGITS = re.compile(r"[0-9]+")
# Looks like a duration whatever its size: told the limits rather than taken for a topic.
DURATION_LIKE = re.compile(r"^[0-9]+\s*(h|hr|hrs|hours?|m|min|mins|minutes?)"
                           r"([0-9]+\s*(m|min|mins|minutes?))?$")
COUNT_MESSAGE = "A practice exam has 1 to 100 questions. Try `exam 25`."
LIMIT_MESSAGE = ("A time limit is 1 minute to 10 hours, e.g. `exam 25 45m`, `exam 25 2h` or "
                 "`exam 25 1h30m`.")


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


def parse_exam_args(words: list[str]) -> tuple[int, int | None, list[str]] | str:
    """(questions, minutes or None, topic words) from `exam`'s words, or what is wrong with
    them. A duration may be one word (`2h`, `1h30m`) or two (`45 min`, `1h 30m`)."""
    n, minutes, rest = DEFAULT_QUESTIONS, None, []
    i = 0
    while i < len(words):
        word = words[i].lower()
        pair = f"{word} {words[i + 1].lower()}" if i + 1 < len(words) else ""
        if pair and (both := parse_minutes(pair)) is not None:
            minutes, i = both, i + 2
            continue
        if (single := parse_minutes(word)) is not None:
            minutes = single
        elif DURATION_LIKE.match(word):
            return LIMIT_MESSAGE
        elif ASCII_DIGITS.fullmatch(word):
            number = small_number(word)  # 4,300 digits must not reach int()
            if number is None or not 1 <= number <= MAX_QUESTIONS:
                return COUNT_MESSAGE
            n = number
        else:
            rest.append(words[i])
        i += 1
    if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
        return LIMIT_MESSAGE
    return n, minutes, rest


class ExamFeature:
    """The `exam` command, resume/abandon buttons, and what happens after each exam answer."""

    def __init__(self, quiz: QuizFeature, pass_mark: int = 70) -> None:
        self.quiz = quiz
        self.kb = quiz.kb
        self.store = quiz.store
        self.pass_mark = pass_mark
        quiz.exam_hook = self.after_answer
        quiz.exam_late = self.too_late

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
        if open_exam is not None and self._timed_out(open_exam):
            return await self.finish(open_exam, note="_Your last exam's time ran out; here is "
                                                     "its result. Type `exam` again for a new "
                                                     "one._")
        if open_exam is not None:
            return [self._in_progress(open_exam)]
        parsed = parse_exam_args(words)
        if isinstance(parsed, str):
            return [Reply(parsed, private=True)]
        n, minutes, rest = parsed
        scope = resolve_scope(self.kb, " ".join(rest))
        if scope is None or not scope.question_ids:
            return [unknown_scope_reply(self.kb, " ".join(rest))]
        await self.store.touch_user(ctx.tenant, ctx.user, ctx.user_name)
        ids = pick_exam_questions(self.kb, list(scope.question_ids), n, self.quiz.rng)
        exam = await self.store.start_exam(ctx.tenant, ctx.user, scope.key, ids, minutes,
                                           self.pass_mark)
        limit = f", {describe_minutes(minutes)}" if minutes else ""
        fewer = f" (only {len(ids)} on this topic)" if len(ids) < n else ""
        intro = Reply(f"**Practice exam**: {plural(len(ids), 'question')}{fewer} on "
                      f"{scope.label}{limit}. Pass mark {self.pass_mark} %. No feedback until "
                      "the end; `exam abandon` stops it.", private=True)
        return [intro, *await self._step(ctx, exam, 0)]

    def _in_progress(self, exam: Exam) -> Reply:
        heading = exam_heading(exam, "", self.quiz.clock()).replace("Exam question", "question")
        return Reply(
            f"You have an exam in progress ({heading}). Resume it or abandon it?",
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
        return [Reply(f"Exam abandoned after {exam.position} of "
                      f"{plural(len(exam.question_ids), 'question')}. Your answers so far still "
                      "count toward your reviews.", private=True, replace=True)]

    async def resume(self, ctx: Context, exam: Exam) -> list[Reply]:
        if self._timed_out(exam):
            return await self.finish(exam)
        return await self._step(ctx, exam, exam.position)

    def _timed_out(self, exam: Exam) -> bool:
        return exam.deadline is not None and self.quiz.clock() > exam.deadline

    async def _step(self, ctx: Context, exam: Exam, position: int,
                    replace: bool = False) -> list[Reply]:
        """The question at `position`, or the scorecard when none is left. A question no
        longer in the bank (the content changed across a deploy) is skipped: the exam moves
        past it and the scorecard leaves it out (it is neither right nor wrong)."""
        total = len(exam.question_ids)
        while position < total and exam.question_ids[position] not in self.kb.questions:
            await self.store.advance_exam(exam, position)
            position += 1
        if position >= total:
            return await self.finish(exam)
        return [await self._show_position(ctx, exam, position, replace=replace)]

    async def _show_position(self, ctx: Context, exam: Exam, position: int,
                             replace: bool = False) -> Reply:
        """The exam's question at `position` (in the bank: `_step` skips retired ones)."""
        question = self.kb.questions[exam.question_ids[position]]
        heading = exam_heading(exam, question.id, self.quiz.clock())
        existing = await self.store.exam_showing(exam.id, question.id)
        if existing is not None and existing.answered_at is None:
            return question_reply(self.kb, question, existing, heading, replace=replace)
        return await self.quiz.show(ctx, question, "exam", heading, exam_id=exam.id,
                                    replace=replace)

    async def too_late(self, ctx: Context, showing: Showing) -> list[Reply] | None:
        """Checked before an exam answer is recorded: past the deadline (or on an exam that
        time already ended) the answer earns nothing and the scorecard is shown."""
        assert showing.exam_id is not None
        exam = await self.store.get_exam(showing.exam_id)
        if exam is None or showing.answered_at is not None or exam.status == "abandoned":
            return None  # a replay gets its first result; an abandoned exam's answer counts
            # toward reviews only, as `after_answer` says
        if exam.status == "open" and not self._timed_out(exam):
            return None
        if exam.deadline is not None and self.quiz.clock() > exam.deadline:
            note = ("⏰ **Time's up.** That answer came after the time limit and does not "
                    "count.")
        else:
            note = "This exam is over; that answer does not count."
        return await self.finish(exam, note=note)

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
        return await self._step(ctx, exam, exam.position, replace=True)

    async def finish(self, exam: Exam, note: str = "") -> list[Reply]:
        """Close the exam once and show the scorecard and the missed questions. Questions no
        longer in the bank are left out of the score."""
        await self.store.close_exam(exam, "finished")
        answered = await self.store.exam_answers(exam.id)
        live = [qid for qid in exam.question_ids if qid in self.kb.questions]
        total = len(live)
        right_ids = {qid for qid in live if answered.get(qid) and answered[qid].correct}
        percent = round(100 * len(right_ids) / total) if total else 0
        passed = percent >= exam.pass_mark
        per_module: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        missed_sections: Counter[str] = Counter()
        for qid in live:
            section = self.kb.questions[qid].section
            module = self.kb.module_of(section) or section
            per_module[module][1] += 1
            per_module[module][0] += qid in right_ids
            if qid not in right_ids:
                missed_sections[section] += 1
        lines = [note] if note else []
        lines.append(f"**Exam finished: {len(right_ids)}/{total} ({percent} %), "
                     f"{'PASS' if passed else 'FAIL'}** (pass mark {exam.pass_mark} %)")
        unanswered = [qid for qid in live if qid not in answered]
        if unanswered:
            verb = "counts" if len(unanswered) == 1 else "count"
            lines.append(f"_Time ran out: {plural(len(unanswered), 'unanswered question')} "
                         f"{verb} as wrong._")
        if retired := len(exam.question_ids) - total:
            lines.append(f"_{plural(retired, 'question')} left the question bank during the "
                         "exam and did not count._")
        if missed_sections:
            weakest = ", ".join(f"{section} ({count} missed)"
                                for section, count in missed_sections.most_common(3))
            lines.append(f"**Weakest sections:** {weakest}")
        fields = tuple(Field(module, f"{bar(c / n)} {c}/{n}")
                       for module, (c, n) in per_module.items())
        scorecard = Reply("\n".join(lines), fields=fields, private=True, replace=True)
        picks = await self.store.exam_picks(exam.id)
        missed = [qid for qid in live if qid not in right_ids]
        review_lines = ["**Missed questions**"] if missed else ["No missed questions. Well done!"]
        for qid in missed:
            review_lines += self._missed_lines(self.kb.questions[qid], answered.get(qid),
                                               picks.get(qid))
        practise = Choice(NEXT_ACTION, "Practise with a quiz", f"quiz:{exam.scope}")
        return [scorecard, Reply("\n".join(review_lines), private=True, choices=(practise,))]

    def _missed_lines(self, question: Question, answer: AnswerRow | None,
                      shown: tuple[tuple[int, ...], tuple[int, ...]] | None) -> list[str]:
        """A missed question: what the learner picked (lettered as they saw it) and why that
        was wrong, or that it was not answered; then the right answer and the explanation."""
        order = shown[0] if shown else tuple(range(len(question.options)))

        def lettered(option: int) -> str:
            letter = LETTERS[order.index(option)] if option in order else "?"
            return f"{letter}) {question.options[option].text}"

        lines = [f"- **{question.prompt}**"]
        if answer is None:
            lines.append("  You picked: not answered.")
        else:
            for option in answer.chosen:
                verdict = "right" if option in question.answer else "wrong"
                lines.append(f"  You picked {lettered(option)} ({verdict}): "
                             f"{question.options[option].why}")
        right = "; ".join(lettered(i) for i in question.answer)
        lines.append(f"  **Answer:** {right}. {question.explanation} (`ask {question.entry}`)")
        return lines
