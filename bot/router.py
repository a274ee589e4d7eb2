"""The one command router every adapter calls: text and button presses in, replies out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.answers import ASK_ACTION, entry_reply
from bot.knowledge.schema import KnowledgeBase
from bot.lookup import Lookup, LookupResult, Match
from bot.model import Action, Choice, Message, Reply

CommandHandler = Callable[[Message, str], Awaitable[list[Reply]]]
ActionHandler = Callable[[Action], Awaitable[list[Reply]]]
Interceptor = Callable[[Message], Awaitable[list[Reply] | None]]


@dataclass(frozen=True)
class Command:
    """A command word, how to use it, and what it does."""

    name: str
    usage: str
    summary: str
    handler: CommandHandler


class Router:
    """Parses the command grammar and dispatches to the features that registered commands."""

    def __init__(self, kb: KnowledgeBase, lookup: Lookup) -> None:
        self.kb = kb
        self.lookup = lookup
        self._commands: dict[str, Command] = {}
        self._actions: dict[str, ActionHandler] = {}
        self._interceptors: list[Interceptor] = []
        self.command("help", "help", "this list, with examples", self._help)
        self.command("ask", "ask <question>", "look something up (or just type the question)",
                     self._ask)
        self.command("topics", "topics", "the course's domains, with counts", self._topics)
        self.action(ASK_ACTION, self._ask_action)

    def command(self, name: str, usage: str, summary: str, handler: CommandHandler) -> None:
        """Register a command word."""
        self._commands[name] = Command(name, usage, summary, handler)

    def has_command(self, name: str) -> bool:
        return name in self._commands

    def action(self, action_id: str, handler: ActionHandler) -> None:
        """Register a button action id."""
        self._actions[action_id] = handler

    def intercept(self, interceptor: Interceptor) -> None:
        """Register a hook that sees text before the commands (e.g. a role-play reply in a DM)."""
        self._interceptors.append(interceptor)

    async def handle(self, message: Message) -> list[Reply]:
        """Answer one line of text."""
        text = message.text.strip()
        if not text:
            return await self._help(message, "")
        for interceptor in self._interceptors:
            replies = await interceptor(message)
            if replies is not None:
                return replies
        word, _, rest = text.partition(" ")
        command = self._commands.get(word.lower())
        if command is not None:
            return await command.handler(message, rest.strip())
        return await self._ask(message, text)

    async def handle_action(self, action: Action) -> list[Reply]:
        """Answer one button press; unknown or stale buttons get a polite private note."""
        handler = self._actions.get(action.action_id)
        if handler is None:
            return [Reply("That button no longer does anything. Type `help` to start again.",
                          private=True)]
        return await handler(action)

    async def _help(self, message: Message, args: str) -> list[Reply]:
        lines = ["**aws-quiz** helps you study for the AWS Partner: Accreditation (Technical) "
                 "course. Commands:"]
        lines += [f"- `{c.usage}`: {c.summary}" for c in self._commands.values()]
        lines.append("Examples: `what is a NACL`, `which service records API calls`, `topics`.")
        return [Reply("\n".join(lines), private=True)]

    async def _ask(self, message: Message, args: str) -> list[Reply]:
        if not args:
            return [Reply("Ask me about anything in the course, e.g. `ask what is Amazon EBS`.",
                          private=True)]
        return [entry_reply(self.kb, self.lookup.search(args))]

    async def _ask_action(self, action: Action) -> list[Reply]:
        entry = self.kb.entries.get(action.value)
        if entry is None:
            return [Reply("That entry no longer exists. Type `topics` to browse.", private=True)]
        result = LookupResult(entry.title, (Match(entry, 100.0),), True)
        return [entry_reply(self.kb, result)]

    async def _topics(self, message: Message, args: str) -> list[Reply]:
        lines = ["**Course topics** (entries · questions)"]
        choices = []
        for domain in self.kb.domains:
            n_entries = sum(1 for e in self.kb.entries.values() if e.domain == domain.id)
            n_questions = sum(1 for q in self.kb.questions.values() if q.domain == domain.id)
            lines.append(f"- **{domain.title}** (`{domain.id}`): {n_entries} · {n_questions}")
            if "quiz" in self._commands and n_questions:
                choices.append(Choice("quiz.start", f"Quiz: {domain.title}", domain.id))
        return [Reply("\n".join(lines), choices=tuple(choices))]
