"""Replies for questions and feedback, lettered in the order the learner saw the options."""

from __future__ import annotations

import math
from datetime import datetime

from bot.durations import describe_minutes
from bot.knowledge.schema import KnowledgeBase, Question
from bot.model import Choice, Reply
from bot.store.quizstore import Exam, Showing

LETTERS = "ABCDEFGH"
ANSWER_ACTION = "quiz.answer"
NEXT_ACTION = "quiz.next"
START_ACTION = "quiz.start"
REPORT_ACTION = "report.start"  # registered by the reports feature, not here


def letter_of(showing: Showing, option: int) -> str:
    """The letter the learner saw for original option index `option`."""
    return LETTERS[showing.option_order.index(option)]


def how_many(question: Question) -> int:
    return len(question.answer)


def report_choice(question: Question) -> Choice:
    """The last button under every question and feedback: report a problem with it."""
    return Choice(REPORT_ACTION, "Report a problem", f"question:{question.id}")


def exam_heading(exam: Exam, question_id: str, now: datetime) -> str:
    """'Exam question 2 of 5', with '· 12 minutes left' when the exam is timed."""
    total = len(exam.question_ids)
    number = exam.question_ids.index(question_id) + 1 if question_id in exam.question_ids \
        else exam.position + 1
    heading = f"Exam question {number} of {total}"
    if exam.deadline is None:
        return heading
    seconds = (exam.deadline - now).total_seconds()
    if seconds < 60:
        return f"{heading} · less than a minute left"
    return f"{heading} · {describe_minutes(math.ceil(seconds / 60))} left"


def question_reply(kb: KnowledgeBase, question: Question, showing: Showing, heading: str,
                   action_id: str = ANSWER_ACTION, replace: bool = False) -> Reply:
    """The question with its options lettered as shuffled and one button per letter. The
    letters never move: after a pick in a multiple-select question every option keeps its
    letter and its button, and pressing a picked one again un-picks it."""
    module = kb.module_of(question.section)
    lines = [f"**{heading}** · {module} › {question.section} · "
             f"{'●' * question.difficulty}{'○' * (3 - question.difficulty)}",
             question.prompt]
    for position, option in enumerate(showing.option_order):
        mark = " ✔ picked" if option in showing.picked else ""
        lines.append(f"{LETTERS[position]}) {question.options[option].text}{mark}")
    if question.kind == "multiple":
        remaining = how_many(question) - len(showing.picked)
        undo = "; press a picked one again to un-pick it" if showing.picked else ""
        lines.append(f"_Pick {how_many(question)} answers, one button at a time"
                     f"{f' ({remaining} to go)' if showing.picked else ''}{undo}._")
    choices = tuple(
        Choice(action_id, LETTERS[position], f"{showing.id}:{option}")
        for position, option in enumerate(showing.option_order)
    ) + (report_choice(question),)
    return Reply("\n".join(lines), choices=choices, private=True, replace=replace)


def _option_line(question: Question, showing: Showing, option: int) -> str:
    return f"{letter_of(showing, option)}) {question.options[option].text}"


def option_verdicts(question: Question, order: tuple[int, ...],
                    chosen: tuple[int, ...]) -> list[str]:
    """One line per option in the order shown: ✅ right or ✖ wrong, the learner's pick marked,
    and why."""
    lines = []
    for position, option in enumerate(order):
        mark = "✅" if option in question.answer else "✖"
        mine = " ← **your answer**" if option in chosen else ""
        lines.append(f"- {mark} {LETTERS[position]}) {question.options[option].text}{mine}: "
                     f"{question.options[option].why}")
    return lines


def feedback_reply(kb: KnowledgeBase, question: Question, showing: Showing,
                   chosen: tuple[int, ...], correct: bool, next_value: str,
                   next_label: str = "Next question") -> Reply:
    """Right or wrong, the answer, the explanation, and why every option is right or wrong."""
    lines = ["✅ **Correct!**" if correct else "❌ **Not quite.**", question.prompt]
    answer = "; ".join(_option_line(question, showing, i) for i in question.answer)
    lines.append(f"**Answer:** {answer}")
    lines.append(question.explanation)
    lines.append("**Every option** (✅ right, ✖ wrong):")
    lines += option_verdicts(question, showing.option_order, chosen)
    entry = kb.entries.get(question.entry)
    choices = [Choice(NEXT_ACTION, next_label, next_value)]
    if entry is not None:
        lines.append(f"Read more: `ask {entry.id}` ({entry.title})")
        choices.append(Choice("ask.entry", f"Read: {entry.title}", entry.id))
    choices.append(report_choice(question))
    return Reply("\n".join(lines), choices=tuple(choices), private=True, replace=True)
