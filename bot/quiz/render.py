"""Replies for questions and feedback, lettered in the order the learner saw the options."""

from __future__ import annotations

from bot.knowledge.schema import KnowledgeBase, Question
from bot.model import Choice, Reply
from bot.store.quizstore import Showing

LETTERS = "ABCDEFGH"
ANSWER_ACTION = "quiz.answer"
NEXT_ACTION = "quiz.next"
START_ACTION = "quiz.start"


def letter_of(showing: Showing, option: int) -> str:
    """The letter the learner saw for original option index `option`."""
    return LETTERS[showing.option_order.index(option)]


def how_many(question: Question) -> int:
    return len(question.answer)


def question_reply(kb: KnowledgeBase, question: Question, showing: Showing, heading: str,
                   action_id: str = ANSWER_ACTION, replace: bool = False) -> Reply:
    """The question with its options lettered as shuffled, and one button per option."""
    module = kb.module_of(question.section)
    lines = [f"**{heading}** · {module} › {question.section} · "
             f"{'●' * question.difficulty}{'○' * (3 - question.difficulty)}",
             question.prompt]
    for position, option in enumerate(showing.option_order):
        mark = " ✔ picked" if option in showing.picked else ""
        lines.append(f"{LETTERS[position]}) {question.options[option].text}{mark}")
    if question.kind == "multiple":
        remaining = how_many(question) - len(showing.picked)
        lines.append(f"_Pick {how_many(question)} answers, one button at a time"
                     f"{f' ({remaining} to go)' if showing.picked else ''}._")
    choices = tuple(
        Choice(action_id, LETTERS[position], f"{showing.id}:{option}")
        for position, option in enumerate(showing.option_order)
        if option not in showing.picked
    )
    return Reply("\n".join(lines), choices=choices, private=True, replace=replace)


def _option_line(question: Question, showing: Showing, option: int) -> str:
    return f"{letter_of(showing, option)}) {question.options[option].text}"


def feedback_reply(kb: KnowledgeBase, question: Question, showing: Showing,
                   chosen: tuple[int, ...], correct: bool, next_value: str,
                   next_label: str = "Next question") -> Reply:
    """Right or wrong, the answer, the explanation, why each chosen option is right or wrong."""
    lines = ["✅ **Correct!**" if correct else "❌ **Not quite.**", question.prompt]
    answer = "; ".join(_option_line(question, showing, i) for i in question.answer)
    lines.append(f"**Answer:** {answer}")
    lines.append(question.explanation)
    for option in chosen:
        verdict = "right" if option in question.answer else "wrong"
        lines.append(f"- You chose {_option_line(question, showing, option)} ({verdict}): "
                     f"{question.options[option].why}")
    entry = kb.entries.get(question.entry)
    choices = [Choice(NEXT_ACTION, next_label, next_value)]
    if entry is not None:
        lines.append(f"Read more: `ask {entry.id}` ({entry.title})")
        choices.append(Choice("ask.entry", f"Read: {entry.title}", entry.id))
    return Reply("\n".join(lines), choices=tuple(choices), private=True, replace=True)
