"""`mistakes`: the learner's recent wrong answers, each with the right answer and a Retry button.

The list holds the last MAX_SHOWN distinct questions answered wrong within WINDOW, newest first.
A question answered right after its latest wrong answer has been dealt with: it leaves the list
(the header says how many did). Retry shows the question again as a review, with freshly
shuffled options, so the answer updates its spaced-repetition card like any other.
"""

from __future__ import annotations

from datetime import timedelta

from bot.knowledge.schema import KnowledgeBase, Question
from bot.model import Action, Choice, Message, Reply
from bot.quiz.feature import QuizFeature
from bot.router import Router
from bot.store.historystore import HistoryStore, Mistake

RETRY_ACTION = "mistakes.retry"
WINDOW = timedelta(days=30)
MAX_SHOWN = 10
MAX_ID_LENGTH = 160  # longer button values are not question ids


def _options(question: Question, indexes: tuple[int, ...]) -> str:
    texts = [question.options[i].text for i in indexes if 0 <= i < len(question.options)]
    return "; ".join(texts) if texts else "(an option no longer in the question)"


class MistakesFeature:
    """Lists recent wrong answers and serves them again on request."""

    def __init__(self, quiz: QuizFeature, history: HistoryStore) -> None:
        self.quiz = quiz
        self.kb: KnowledgeBase = quiz.kb
        self.history = history

    def register(self, router: Router) -> None:
        router.command("mistakes", "mistakes",
                       "your recent wrong answers, with the right answer and a retry",
                       self.cmd_mistakes)
        router.action(RETRY_ACTION, self.on_retry)

    async def cmd_mistakes(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        now = self.quiz.clock()
        found = [m for m in await self.history.mistakes(ctx.tenant, ctx.user, now - WINDOW)
                 if m.question_id in self.kb.questions]
        open_ = [m for m in found if not m.fixed]
        fixed = len(found) - len(open_)
        if not open_:
            if fixed:
                return [Reply(f"You have answered all {fixed} of your mistakes of the last "
                              f"{WINDOW.days} days right since. Well done! Keep going with "
                              "`quiz`, or `review` what is due.", private=True)]
            return [Reply(f"No wrong answers in the last {WINDOW.days} days. Try a `quiz`: "
                          "anything you get wrong shows up here to retry.", private=True)]
        shown = open_[:MAX_SHOWN]
        header = (f"**Your recent mistakes**: {len(shown)} question"
                  f"{'s' if len(shown) != 1 else ''} answered wrong in the last {WINDOW.days} "
                  "days, newest first")
        notes = []
        if len(open_) > len(shown):
            notes.append(f"{len(open_) - len(shown)} older not shown")
        if fixed:
            notes.append(f"{fixed} answered right since and left out")
        lines = [header + (f" ({'; '.join(notes)})" if notes else "") + "."]
        for number, mistake in enumerate(shown, start=1):
            lines += self._item(number, mistake)
        lines.append("_Retry one: it comes back as a review, with the options in a new order._")
        choices = tuple(Choice(RETRY_ACTION, f"Retry {number}", mistake.question_id)
                        for number, mistake in enumerate(shown, start=1))
        return [Reply("\n".join(lines), choices=choices, private=True)]

    def _item(self, number: int, mistake: Mistake) -> list[str]:
        question = self.kb.questions[mistake.question_id]
        module = self.kb.module_of(question.section)
        return [f"**{number}.** {module} › {question.section} · {mistake.answered_at:%a %d %b}",
                question.prompt,
                f"- You picked: {_options(question, mistake.chosen)}",
                f"- Right answer: {_options(question, question.answer)}"]

    async def on_retry(self, action: Action) -> list[Reply]:
        """Show the question again (the button value is checked: it must be a question)."""
        value = action.value.strip()
        question = self.kb.questions.get(value) if len(value) <= MAX_ID_LENGTH else None
        if question is None:
            return [Reply("That question is no longer in the question bank. Type `mistakes` "
                          "for your current list.", private=True)]
        ctx = action.context
        await self.quiz.store.touch_user(ctx.tenant, ctx.user, ctx.user_name)
        return [await self.quiz.show(ctx, question, "review", "Retry a mistake")]
