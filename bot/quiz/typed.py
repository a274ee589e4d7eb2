"""Typed letters (`b`, `(b)`, `a, c`) answer the learner's open question like its buttons."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from bot.model import Action, Choice, Message, Reply
from bot.quiz.feature import QuizFeature
from bot.quiz.render import ANSWER_ACTION, LETTERS, NEXT_ACTION, how_many
from bot.router import Router

OPEN_FOR = timedelta(hours=24)  # a question shown longer ago than this is no longer open
_TOKEN = r"\(?[a-h][).]?"
_SEPARATOR = r"(?:\s*[,;&+/]\s*|\s+)(?:and\s+)?"
_ANSWER = re.compile(rf"^{_TOKEN}(?:{_SEPARATOR}{_TOKEN})*$", re.IGNORECASE)
_AND = re.compile(r"\band\b", re.IGNORECASE)


def parse_letters(text: str) -> tuple[str, ...] | None:
    """The letters of a typed answer (`b`, `B`, `b)`, `(b)`, `b.`, `a c`, `a, c`, `a and c`),
    upper case and without repeats; None when the text is not an answer."""
    text = text.strip()
    if len(text) > 40 or _ANSWER.fullmatch(text) is None:
        return None
    letters = re.findall(r"[a-h]", _AND.sub(" ", text.lower()))
    return tuple(dict.fromkeys(letter.upper() for letter in letters))


def no_open_question() -> Reply:
    return Reply("There's no open question to answer; type `quiz` for one.", private=True,
                 choices=(Choice(NEXT_ACTION, "Quiz me", "quiz:"),))


class TypedAnswers:
    """A router interceptor: a line that is only letters answers the learner's latest open
    question (shown in the last 24 hours, not answered yet) through `QuizFeature.on_answer`,
    exactly as its buttons do, so a repeated answer counts once. Any other line falls through
    and leaves the open question answerable."""

    def __init__(self, quiz: QuizFeature) -> None:
        self.quiz = quiz

    def register(self, router: Router) -> None:
        router.intercept(self.intercept)

    async def intercept(self, message: Message) -> list[Reply] | None:
        letters = parse_letters(message.text)
        if letters is None:
            return None
        ctx = message.context
        store = self.quiz.store
        showing = await store.latest_showing(ctx.tenant, ctx.user, self.quiz.clock() - OPEN_FOR)
        question = self.quiz.kb.questions.get(showing.question_id) if showing else None
        if showing is None or question is None or showing.answered_at is not None:
            return [no_open_question()]
        shown = len(showing.option_order)
        if any(LETTERS.index(letter) >= shown for letter in letters):
            return [Reply(f"Pick a letter from A to {LETTERS[shown - 1]}.", private=True)]
        options = [showing.option_order[LETTERS.index(letter)] for letter in letters]
        needed = how_many(question)
        if question.kind != "multiple" and len(options) > 1:
            return [Reply("This question takes one answer: type one letter, e.g. `b`.",
                          private=True)]
        if len(options) > needed:
            return [Reply(f"This question takes {needed} answers: type {needed} letters, "
                          "e.g. `a c`.", private=True)]
        if len(options) == 1:
            presses = options  # one letter is one button press: it picks, or un-picks
        elif len(options) == needed:  # the whole answer: it replaces earlier picks
            presses = [o for o in showing.picked if o not in options] + \
                [o for o in options if o not in showing.picked]
        else:  # some of the answer: added to the picks so far
            presses = [o for o in options if o not in showing.picked]
            if len(showing.picked) + len(presses) > needed:
                return [Reply(f"That would be more than {needed} answers: type the letters of "
                              "your whole answer, e.g. `a c`.", private=True)]
        replies: list[Reply] = []
        for option in presses:
            replies = await self.quiz.on_answer(
                Action(ctx, ANSWER_ACTION, f"{showing.id}:{option}"))
        if not replies:
            return [Reply("Those letters are already picked.", private=True)]
        # a typed line has no message of ours to replace: every reply is a new message
        return [dataclasses.replace(reply, replace=False) for reply in replies]


def register_typed_answers(router: Router, quiz: QuizFeature) -> None:
    """Let typed letters answer questions (called in `build_core` after the quiz feature)."""
    TypedAnswers(quiz).register(router)
