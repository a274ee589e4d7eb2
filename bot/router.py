"""The one command router every adapter calls: text and button presses in, replies out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein

from bot.answers import ASK_ACTION, entry_reply
from bot.knowledge.schema import Domain, KnowledgeBase
from bot.lookup import Lookup, LookupResult, Match
from bot.model import Action, Choice, Message, Reply
from bot.text import escape_md

CommandHandler = Callable[[Message, str], Awaitable[list[Reply]]]
ActionHandler = Callable[[Action], Awaitable[list[Reply]]]
Interceptor = Callable[[Message], Awaitable[list[Reply] | None]]

RUN_ACTION = "run"  # a button whose value is a command line (registered by bot.home)
TYPO_MAX_WORDS = 3  # a longer line is a question, not a mistyped command
NOT_TYPOS = frozenset({"aws", "task", "read", "ash"})  # words near a command word, meant as words
HABITS = {
    "clear": "Nothing to clear here; type `help` for commands.",
    "cls": "Nothing to clear here; type `help` for commands.",
    "exit": "Nothing to quit here; type `help` for commands (`end` stops a role-play).",
    "quit": "Nothing to quit here; type `help` for commands (`end` stops a role-play).",
}


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
        self.command("topics", "topics", "quiz topics by course module, with counts",
                     self._topics)
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
        if text.lower() in HABITS:
            return [Reply(HABITS[text.lower()], private=True)]
        meant = self.did_you_mean(word) if len(text.split()) <= TYPO_MAX_WORDS else []
        if not meant:
            return await self._ask(message, text)
        result = self.lookup.search(text)
        if result.confident:  # `eks` is EKS: a confident lookup wins over a near command word
            return [entry_reply(self.kb, result)]
        return [self._suggest(meant, rest.strip(), text)]

    def did_you_mean(self, word: str) -> list[str]:
        """Command words one edit from `word` (two for words of seven letters or more)."""
        word = word.lower()
        if len(word) < 3 or not word.isalpha() or word in NOT_TYPOS:
            return []
        limit = 1 if len(word) <= 6 else 2
        distances = {name: DamerauLevenshtein.distance(word, name, score_cutoff=limit)
                     for name in self._commands}
        best = min(distances.values(), default=limit + 1)
        if best > limit:
            return []
        return sorted(name for name, d in distances.items() if d == best)[:2]

    @staticmethod
    def _suggest(names: list[str], rest: str, text: str) -> Reply:
        """The "did you mean `leaderboard`?" reply: a button runs the corrected line."""
        words = " or ".join(f"`{name}`" for name in names)
        choices = [Choice(RUN_ACTION, f"Run: {name} {rest}".strip()[:75],
                          f"{name} {rest}".strip()) for name in names]
        choices.append(Choice(RUN_ACTION, f"Look it up: {text}"[:75], f"ask {text}"))
        return Reply(f"Did you mean {words}? (Or look \"{escape_md(text)}\" up in the course "
                     "notes.)", choices=tuple(choices), private=True)

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

    def topics_by_module(self) -> dict[str, list[Domain]]:
        """Each quiz topic under the course module that holds most of its questions.

        A tie goes to the module with more of the topic's entries, then to the earlier module.
        Every module of the course is a key, in course order (a module may hold no topic).
        """
        modules = list(dict.fromkeys(s.module for s in self.kb.sections))
        grouped: dict[str, list[Domain]] = {module: [] for module in modules}
        for domain in self.kb.domains:
            questions = Counter(self.kb.module_of(q.section) for q in self.kb.questions.values()
                                if q.domain == domain.id)
            entries = Counter(self.kb.module_of(e.section) for e in self.kb.entries.values()
                              if e.domain == domain.id)
            known = [m for m in modules if questions[m] or entries[m]] or modules[:1]
            home = max(known, key=lambda m: (questions[m], entries[m], -modules.index(m)))
            grouped.setdefault(home, []).append(domain)
        return grouped

    async def _topics(self, message: Message, args: str) -> list[Reply]:
        lines = ["**Course topics** by module (entries · questions); `quiz <topic>` asks from "
                 "one topic."]
        choices = []
        for module, domains in self.topics_by_module().items():
            lines.append(f"**{module}**")
            if not domains:
                lines.append("- _its questions are in the topics of the other modules_")
            for domain in domains:
                n_entries = sum(1 for e in self.kb.entries.values() if e.domain == domain.id)
                n_questions = sum(1 for q in self.kb.questions.values()
                                  if q.domain == domain.id)
                lines.append(f"- {domain.title} (`{domain.id}`): {n_entries} · {n_questions}")
                if "quiz" in self._commands and n_questions:
                    choices.append(Choice("quiz.start", f"Quiz: {domain.title}", domain.id))
        return [Reply("\n".join(lines), choices=tuple(choices))]
