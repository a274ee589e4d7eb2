"""The console adapter: a terminal chat with the same router, answers as letters, other choices numbered.

Lines starting with `/` steer the console itself: `/as alice` switches user, `/dm` moves to a
direct conversation, `/channel general` to a channel, `/admin` toggles admin rights for the
current user, `/whoami`, `/help` and `/quit` (bare `exit` and `quit` leave too).

A question's answer buttons (single letters A-H) are shown as `[A] [B] ...` and picked by typing
the letter; every other button is numbered `[1] [2] ...`, continuously across all the replies to
one input, and a bare number picks only from the latest output. Lettered answers stay on offer
until a new question replaces them, so a lookup in between does not lose the open question.

Interactive (a terminal): `readline` line editing and history in `<data dir>/console_history`;
Ctrl-C or Ctrl-D leaves quietly. Piped: no prompt, each input line echoed as `> line` before its
replies, so a transcript reads like a conversation.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from bot.model import Action, Choice, Context, ConversationRef, Message, Reply
from bot.text import small_number

if TYPE_CHECKING:  # `aws-quiz ask` renders with this module and needs no database layer
    from bot.app import Core
    from bot.router import Router

CONSOLE_HELP = """Console commands:
  /tick             run one daily-question scheduler pass now (posts show up here)
  /as NAME          talk as another user (progress is per user)
  /dm               talk in a direct message (role-play happens here)
  /channel NAME     talk in a channel
  /admin            toggle admin rights for the current user (for `daily on`)
  /whoami           show who and where you are, and whether you are an admin
  /quit             leave (Ctrl-D, Ctrl-C or `exit` work too)
Type a letter (a, B, c)) to answer the question on screen; a number picks one of the
numbered choices of the last reply."""

LETTERS = "ABCDEFGH"
HISTORY_LENGTH = 1000
ESCAPES = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|O.|[@-_])?")  # CSI, SS3 and 2-byte codes
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
TYPED_LETTER = re.compile(r"^\(?([A-Ha-h])[).:]?$")
LEAVE_WORDS = ("exit", "quit")


def render(reply: Reply) -> str:
    """Plain text for a terminal: markdown markers dropped, choices listed by the caller."""
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


def is_answer(choice: Choice) -> bool:
    """An answer button of a quiz, exam, review or daily question: its label is one letter."""
    return len(choice.label) == 1 and choice.label in LETTERS


def clean_line(text: str) -> tuple[str, bool]:
    """The line without terminal key codes (`\\x1b[A` from an arrow key) or control bytes."""
    cleaned = CONTROLS.sub("", ESCAPES.sub("", text))
    return cleaned.strip(), cleaned != text


@dataclass
class _Output:
    """The choices printed for one input line (or one scheduler pass)."""

    numbered: list[Choice] = field(default_factory=list)
    lettered: dict[str, Choice] | None = None  # the last question's answer buttons
    replaced: bool = False  # a reply replaced the message it answered (e.g. feedback)
    printed: bool = False


class ConsoleOutbound:
    """The console's outbound port: scheduled posts are printed, with their buttons."""

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
    """One terminal conversation: who is talking, where, who is an admin, the choices on offer."""

    def __init__(self, core: Core, user: str = "you", out: TextIO = sys.stdout,
                 echo: bool = False) -> None:
        self.core = core
        self.out = out
        self.echo = echo  # piped input: print each line as `> line` before its replies
        self.admins: set[str] = {user}  # the person at the keyboard is an admin; `/as` users not
        self.context = Context(platform="console", tenant="local", user=user, user_name=user,
                               channel="console", direct=True, is_admin=True)
        self.numbered: list[Choice] = []  # of the latest output only
        self.lettered: dict[str, Choice] = {}  # of the latest question still on screen
        self._output: _Output | None = None

    @property
    def router(self) -> Router:
        """The core's router at the time of the call (a knowledge reload swaps it)."""
        return self.core.router

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    # -- output -----------------------------------------------------------------------------

    def show(self, replies: list[Reply]) -> None:
        """Print replies: answer buttons as `[A] [B]`, the others numbered on from this output."""
        output = self._output if self._output is not None else _Output()
        for reply in replies:
            if reply.dm and not self.context.direct:
                self.context = replace(self.context, channel=f"dm-{self.context.user}",
                                       direct=True)
                self._print("(continuing in your direct messages with the bot)")
            self._print(render(reply))
            answers = [c for c in reply.choices if is_answer(c)]
            others = [c for c in reply.choices if not is_answer(c)]
            if answers:
                output.lettered = {c.label: c for c in answers}
                self._print("  " + " ".join(f"[{c.label}]" for c in answers)
                            + "   (type the letter)")
            for choice in others:
                output.numbered.append(choice)
                self._print(f"  [{len(output.numbered)}] {choice.label}")
            output.replaced = output.replaced or reply.replace
            output.printed = True
            self._print("")
        if self._output is None:  # printed outside an input line (a scheduler in the loop)
            self._settle(output)

    def _settle(self, output: _Output) -> None:
        """After one input: its numbers replace the old ones; a new question its letters."""
        if not output.printed:
            return
        self.numbered = output.numbered
        if output.lettered is not None:
            self.lettered = output.lettered
        elif output.replaced:  # the question's message became its feedback: answered
            self.lettered = {}

    # -- console commands -------------------------------------------------------------------

    def _switch(self, **changes: Any) -> None:
        context = replace(self.context, **changes)
        self.context = replace(context, is_admin=context.user in self.admins)

    def steer(self, line: str) -> bool:
        """Handle a /command; False means quit."""
        word, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if word in ("quit", "exit", "q"):
            return False
        if word == "as" and arg:
            self._switch(user=arg, user_name=arg)
            admin = "an admin" if self.context.is_admin else "not an admin; /admin to toggle"
            self._print(f"(you are now {arg}, {admin})\n")
        elif word == "dm":
            self._switch(channel=f"dm-{self.context.user}", direct=True)
            self._print(f"(direct message with the bot, as {self.context.user})\n")
        elif word == "channel" and arg:
            name = arg.lstrip("#")
            self._switch(channel=name, direct=False)
            self._print(f"(in #{name})\n")
        elif word == "admin":
            user = self.context.user
            if user in self.admins:
                self.admins.discard(user)
            else:
                self.admins.add(user)
            self._switch()
            self._print(f"(admin for {user}: {'on' if self.context.is_admin else 'off'})\n")
        elif word == "whoami":
            where = "a direct message" if self.context.direct else f"#{self.context.channel}"
            admin = "admin" if self.context.is_admin else "not an admin"
            self._print(f"({self.context.user} in {where}, {admin})\n")
        else:
            self._print(CONSOLE_HELP + "\n")
        return True

    # -- input ------------------------------------------------------------------------------

    async def line(self, text: str) -> bool:
        """Handle one input line; False means quit."""
        text, had_codes = clean_line(text)
        if self.echo and text:
            self._print(f"> {text}")
        if not text:
            if had_codes:
                self._print("(ignored a terminal key code: arrow keys edit and recall lines "
                            "only in an interactive terminal)\n")
            return True
        if text.lower() in LEAVE_WORDS:  # typed by habit: leave, as a shell would
            return False
        if text.startswith("/") and text != "/tick":
            return self.steer(text)
        self._output = _Output()
        try:
            await self._dispatch(text)
        finally:
            output, self._output = self._output, None
            self._settle(output)
        return True

    async def _dispatch(self, text: str) -> None:
        if text == "/tick":
            daily = self.core.daily
            if daily is None:
                self._print("(no database: the daily question is off)\n")
            else:
                counts = await daily.run_due()
                self._print(f"(scheduler pass: {counts['posted']} posted, "
                            f"{counts['revealed']} revealed)\n")
            return
        if not self.context.direct:
            await self.core.remember(ConversationRef("console", self.context.tenant,
                                                     self.context.channel))
        if text.isdigit():
            await self._pick_number(text)
            return
        letter = TYPED_LETTER.match(text)
        if letter is not None and letter.group(1).upper() in self.lettered:
            await self._press(self.lettered[letter.group(1).upper()])
            return
        # Not a choice on screen: the router decides (a letter with no question on screen is
        # answered from the learner's open question in the database, if they have one).
        self.show(await self.router.handle(Message(self.context, text)))

    async def _pick_number(self, text: str) -> None:
        if not self.numbered:
            hint = ""
            if self.lettered:
                hint = "; to answer, type a letter: " + ", ".join(self.lettered)
            self._print(f"(the last reply had no numbered choices{hint})\n")
            return
        number = small_number(text) or 0  # 4,300 digits must not reach int()
        if not 1 <= number <= len(self.numbered):
            self._print(f"(pick a number from 1 to {len(self.numbered)})\n")
            return
        await self._press(self.numbered[number - 1])

    async def _press(self, choice: Choice) -> None:
        action = Action(self.context, choice.action_id, choice.value)
        self.show(await self.router.handle_action(action))


# -- reading lines: readline, history, Ctrl-C --------------------------------------------------

class Interrupts:
    """Ctrl-C while waiting for a line leaves at once; while a line (or start-up) is handled,
    right after it, so the database is closed cleanly.

    A second Ctrl-C during slow work leaves at once. This replaces asyncio's own SIGINT handler,
    which only cancels the task: a blocking `input()` never sees that, and the database layer
    may swallow the cancellation.
    """

    def __init__(self) -> None:
        self.reading = False
        self.pending = False

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.reading or self.pending:
            raise KeyboardInterrupt
        self.pending = True

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, self.handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous if previous is not None
                          else signal.default_int_handler)

    def read(self, read_line: Callable[[], str]) -> str:
        self.reading = True
        try:
            return read_line()
        finally:
            self.reading = False


def _start_history(path: Path | None) -> Callable[[], None]:
    """Line editing and history with `readline` where it exists; returns the save function."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return lambda: None
    readline.set_history_length(HISTORY_LENGTH)
    if path is not None:
        try:
            readline.read_history_file(path)
        except OSError:
            pass  # no history yet

    def save() -> None:
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.set_history_length(HISTORY_LENGTH)
            readline.write_history_file(path)
        except OSError:
            pass  # a read-only data folder loses the history, not the session

    return save


async def run_console(core: Core, user: str, stream: TextIO = sys.stdin,
                      out: TextIO = sys.stdout, history: Path | None = None,
                      interrupts: Interrupts | None = None) -> None:
    """Run a console chat until /quit, end of input or Ctrl-C.

    Pass the `interrupts` installed around start-up so that a Ctrl-C while the knowledge and
    the database load is honoured too.
    """
    interactive = stream.isatty()
    chat = ConsoleChat(core, user=user, out=out, echo=not interactive)
    core.outbounds.add(ConsoleOutbound(chat))
    interrupts = interrupts or Interrupts()
    save_history = _start_history(history) if interactive else (lambda: None)

    def read_line() -> str:
        if interactive:
            try:
                return input("> ") + "\n"
            except EOFError:
                return ""
        return stream.readline()

    if interactive:
        chat._print("aws-quiz console. Type `help` for commands, /help for console controls, "
                    "/quit to leave.\n")
    with interrupts.installed():
        try:
            while not interrupts.pending:
                text = interrupts.read(read_line)
                if not text:  # end of input (Ctrl-D)
                    if interactive:
                        chat._print("")
                    return
                if not await chat.line(text):
                    return
            raise KeyboardInterrupt  # Ctrl-C while a line was handled: leave after it
        except KeyboardInterrupt:
            if interactive:
                chat._print("\nbye")
        finally:
            save_history()
