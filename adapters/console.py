"""The console adapter: a terminal chat with the same router, choices shown as numbers.

Lines starting with `/` steer the console itself: `/as alice` switches user, `/dm` moves to a
direct conversation, `/channel general` to a channel, `/admin` toggles admin rights, `/whoami`,
`/help` and `/quit`. A bare number picks one of the numbered choices of the last reply.
Works interactively and with piped stdin (scripted sessions print no prompt).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

from bot.model import Action, Choice, Context, ConversationRef, Message, Reply
from bot.text import small_number

if TYPE_CHECKING:  # `aws-quiz ask` renders with this module and needs no database layer
    from bot.app import Core

CONSOLE_HELP = """Console commands:
  /tick             run one daily-question scheduler pass now (posts show up here)
  /as NAME          talk as another user (progress is per user)
  /dm               talk in a direct message (role-play happens here)
  /channel NAME     talk in a channel
  /admin            toggle admin rights (for `daily on`)
  /whoami           show who and where you are
  /quit             leave (Ctrl-D works too)
A number picks one of the numbered choices of the last reply."""


def render(reply: Reply) -> str:
    """Plain text for a terminal: markdown markers dropped, choices numbered by the caller."""
    text = reply.text
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)]+)\)", r"\1 <\2>", text)
    text = re.sub(r"(?<!\\)\*\*(.+?)(?<!\\)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w\\])_(.+?)(?<!\\)_(?!\w)", r"\1", text)
    text = text.replace("`", "")
    text = re.sub(r"\\([*_`\[\]])", r"\1", text)
    lines = [text]
    width = max((len(f.label) for f in reply.fields), default=0)
    lines += [f"  {f.label.ljust(width)}  {f.value}" for f in reply.fields]
    return "\n".join(lines)


class ConsoleOutbound:
    """The console's outbound port: scheduled posts are printed, with numbered buttons."""

    platform = "console"

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat
        self.sent = 0

    async def post(self, ref: ConversationRef, reply: Reply, thread: str | None = None,
                   key: str | None = None) -> str:
        self.sent += 1
        where = f"#{ref.channel}" + (f" (thread of message {thread})" if thread else "")
        self.chat._print(f"[{where}, message {self.sent}]")
        self.chat.show([reply])
        return str(self.sent)

    async def update(self, ref: ConversationRef, message_id: str, reply: Reply) -> None:
        self.chat._print(f"[#{ref.channel}, message {message_id} updated]")
        self.chat.show([reply])


class ConsoleChat:
    """One terminal conversation: who is talking, where, and the choices on offer."""

    def __init__(self, core: Core, user: str = "you", out: TextIO = sys.stdout) -> None:
        self.core = core
        self.router = core.router
        self.out = out
        self.context = Context(platform="console", tenant="local", user=user, user_name=user,
                               channel="console", direct=True, is_admin=True)
        self.choices: list[Choice] = []

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def show(self, replies: list[Reply]) -> None:
        """Print replies and remember the numbered choices of the last one that had any."""
        for reply in replies:
            if reply.dm and not self.context.direct:
                self.context = replace(self.context, channel=f"dm-{self.context.user}",
                                       direct=True)
                self._print("(continuing in your direct messages with the bot)")
            self._print(render(reply))
            if reply.choices:
                self.choices = list(reply.choices)
                for number, choice in enumerate(reply.choices, start=1):
                    self._print(f"  [{number}] {choice.label}")
            self._print("")

    def steer(self, line: str) -> bool:
        """Handle a /command; False means quit."""
        word, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if word in ("quit", "exit", "q"):
            return False
        if word == "as" and arg:
            self.context = replace(self.context, user=arg, user_name=arg)
            self._print(f"(you are now {arg})\n")
        elif word == "dm":
            self.context = replace(self.context, channel=f"dm-{self.context.user}", direct=True)
            self._print(f"(direct message with the bot, as {self.context.user})\n")
        elif word == "channel" and arg:
            name = arg.lstrip("#")
            self.context = replace(self.context, channel=name, direct=False)
            self._print(f"(in #{name})\n")
        elif word == "admin":
            self.context = replace(self.context, is_admin=not self.context.is_admin)
            self._print(f"(admin: {'on' if self.context.is_admin else 'off'})\n")
        elif word == "tick":
            return True  # handled asynchronously in line()
        elif word == "whoami":
            where = "a direct message" if self.context.direct else f"#{self.context.channel}"
            admin = ", admin" if self.context.is_admin else ""
            self._print(f"({self.context.user} in {where}{admin})\n")
        else:
            self._print(CONSOLE_HELP + "\n")
        return True

    async def line(self, text: str) -> bool:
        """Handle one input line; False means quit."""
        text = text.strip()
        if not text:
            return True
        if text == "/tick":
            if self.core.daily is None:
                self._print("(no database: the daily question is off)\n")
            else:
                counts = await self.core.daily.run_due()
                self._print(f"(scheduler pass: {counts['posted']} posted, "
                            f"{counts['revealed']} revealed)\n")
            return True
        if text.startswith("/"):
            return self.steer(text)
        if not self.context.direct:
            await self.core.remember(ConversationRef("console", self.context.tenant,
                                                     self.context.channel))
        if text.isdigit() and self.choices:
            number = small_number(text) or 0  # 4,300 digits must not reach int()
            if 1 <= number <= len(self.choices):
                choice = self.choices[number - 1]
                action = Action(self.context, choice.action_id, choice.value)
                self.show(await self.router.handle_action(action))
                return True
            self._print(f"(pick a number from 1 to {len(self.choices)})\n")
            return True
        self.show(await self.router.handle(Message(self.context, text)))
        return True


def _lines(stream: TextIO, interactive: bool) -> Iterator[str]:
    if not interactive:
        yield from stream
        return
    while True:
        try:
            yield input("> ")
        except EOFError:
            return


async def run_console(core: Core, user: str, stream: TextIO = sys.stdin) -> None:
    """Run a console chat until /quit or end of input."""
    interactive = stream.isatty()
    chat = ConsoleChat(core, user=user)
    core.outbounds.add(ConsoleOutbound(chat))
    if interactive:
        chat._print("aws-quiz console. Type `help` for commands, /help for console controls, "
                    "/quit to leave.\n")
    for text in _lines(stream, interactive):
        if not await chat.line(text):
            break
