"""The console as a person uses it: letters answer, numbers pick, /admin per user, Ctrl-C, pipes."""

from __future__ import annotations

import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.console import ConsoleChat
from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Message, Reply
from bot.store.database import Database
from tests.conftest import KNOWLEDGE, ROOT


class Session:
    """A ConsoleChat on a real database, with what each line printed."""

    def __init__(self, core: Core, user: str = "alice") -> None:
        self.out = io.StringIO()
        self.chat = ConsoleChat(core, user=user, out=self.out)
        self.core = core

    async def say(self, text: str) -> str:
        start = len(self.out.getvalue())
        assert await self.chat.line(text)
        return self.out.getvalue()[start:]


@pytest.fixture()
def full(kb: KnowledgeBase, db: Database, tmp_path: Path) -> Core:
    return build_core(Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path), kb, db=db)


_prompts: dict[int, str] = {}  # ConsoleChat id -> the prompt of the question on screen


def right_letter(kb: KnowledgeBase, chat: ConsoleChat, want_correct: bool = True) -> str:
    """The letter on screen a learner who knows (or not) the answer would type."""
    question = next(q for q in kb.questions.values() if q.prompt == _prompts[id(chat)])
    for letter, choice in chat.lettered.items():
        option = int(choice.value.split(":")[1])
        if (option in question.answer) == want_correct:
            return letter.lower()
    raise AssertionError(chat.lettered)


async def ask_question(session: Session, command: str = "quiz storage") -> str:
    """Start a single-answer question and remember its prompt."""
    for _ in range(20):
        printed = await session.say(command)
        if "Pick " not in printed:  # skip choose-two questions
            break
    prompt = printed.splitlines()[1]
    _prompts[id(session.chat)] = prompt
    assert session.chat.lettered, printed
    return printed


async def test_answers_are_letters_and_other_choices_are_numbered(full: Core) -> None:
    session = Session(full)
    printed = await ask_question(session)
    assert "  [A] [B] [C] [D]" in printed or "  [A] [B]   (type" in printed
    assert "[1] A" not in printed, "answers are never numbered"
    feedback = await session.say(right_letter(full.kb, session.chat).upper() + ")")
    assert feedback.startswith("✅ Correct!"), feedback
    assert "[1] Next question" in feedback
    assert session.chat.lettered == {}, "an answered question offers no letters"
    later = await session.say("b")
    assert "Correct!" not in later and "Not quite" not in later


async def test_a_lookup_between_does_not_lose_the_open_question(full: Core) -> None:
    session = Session(full)
    await ask_question(session)
    lookup = await session.say("what is amazon s3")
    assert "Amazon S3" in lookup and "[1] " in lookup
    feedback = await session.say(right_letter(full.kb, session.chat, want_correct=False))
    assert feedback.startswith("❌ Not quite."), "the typed letter answered the open question"


async def test_numbers_run_on_across_one_output_and_never_collide(full: Core) -> None:
    """A question and a list in one output (as `review` prints its question and the role-plays
    due): letters answer the question, numbers pick from the list."""
    router = full.router

    async def both(message: Message, args: str) -> list[Reply]:
        question = await router.handle(Message(message.context, "quiz storage"))
        listing = await router.handle(Message(message.context, "what is amazon s3"))
        return question + listing

    router.command("both", "both", "a question and a list", both)
    session = Session(full)
    printed = await session.say("both")
    numbers = [int(line.split("]")[0].strip(" [")) for line in printed.splitlines()
               if line.startswith("  [") and line.strip()[1].isdigit()]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 3, printed
    titles = [c.label for c in session.chat.numbered]
    opened = await session.say("3")
    assert opened.startswith(titles[2]), (titles, opened)
    assert session.chat.lettered, "the question is still answerable after picking from the list"


async def test_a_bare_number_never_reaches_back_to_an_older_reply(full: Core) -> None:
    session = Session(full)
    first = await session.say("what is amazon s3")
    assert "[2] " in first
    await session.say("help")
    assert session.chat.numbered == [], "help offers no choices"
    refused = await session.say("2")
    assert refused.strip() == "(the last reply had no numbered choices)"
    assert "Glacier" not in refused
    await ask_question(session)
    await session.say("help")
    hint = await session.say("2")
    assert "no numbered choices; to answer, type a letter: A, B" in hint


async def test_a_letter_with_no_question_on_screen_goes_to_the_router(full: Core) -> None:
    first = Session(full)
    await ask_question(first)
    letter = right_letter(full.kb, first.chat)
    again = Session(full)  # a new console for the same learner: no letters on screen
    _prompts[id(again.chat)] = _prompts[id(first.chat)]
    assert again.chat.lettered == {}
    answered = await again.say(letter)
    assert answered.startswith("✅ Correct!"), "the core answered the learner's open question"


async def test_admin_belongs_to_the_current_user(full: Core) -> None:
    session = Session(full, user="lead")
    assert "(lead in a direct message, admin)" in await session.say("/whoami")
    await session.say("/channel general")
    assert "Daily question **on**".replace("**", "") in await session.say("daily on 09:00")
    assert "not an admin" in await session.say("/as bob")
    assert "(bob in #general, not an admin)" in await session.say("/whoami")
    assert "only workspace admins" in await session.say("daily off")
    assert "(admin for bob: on)" in await session.say("/admin")
    assert "is off for this channel" in await session.say("daily off")
    await session.say("/as carol")
    assert "only workspace admins" in await session.say("daily on 09:00"), "bob's switch only"
    await session.say("/as lead")
    assert "(admin for lead: off)" in await session.say("/admin")
    assert "only workspace admins" in await session.say("daily on 09:00")


async def test_terminal_key_codes_never_reach_the_router(full: Core) -> None:
    seen: list[str] = []

    async def record(message: Message) -> list[Reply] | None:
        seen.append(message.text)
        return None

    full.router.intercept(record)
    session = Session(full)
    note = await session.say("\x1b[A")
    assert "ignored a terminal key code" in note and seen == []
    await session.say("\x1b[Awhat is s3\x1b[D")
    assert seen == ["what is s3"]
    assert "\x1b" not in session.out.getvalue()


async def test_the_console_uses_the_routers_of_the_moment(full: Core, kb: KnowledgeBase,
                                                          db: Database, tmp_path: Path) -> None:
    session = Session(full)
    fresh = build_core(Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path), kb, db=db)
    seen: list[str] = []

    async def record(message: Message) -> list[Reply] | None:
        seen.append(message.text)
        return [Reply("from the new router")]

    fresh.router.intercept(record)
    full.router = fresh.router  # a knowledge reload swaps the router in place
    assert "from the new router" in await session.say("help")


# -- whole processes: echo, pipes, Ctrl-C, history -----------------------------------------------

def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "adapters.cli", *args]


def env_for(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "AWS_QUIZ_DATA": str(tmp_path), "TERM": "xterm"}


def test_piped_input_is_echoed_before_its_replies(tmp_path: Path) -> None:
    result = subprocess.run(cli("chat", "--user", "ann"), input="topics\n\nquz\n/whoami\n",
                            capture_output=True, text=True, env=env_for(tmp_path), cwd=ROOT,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "> topics" and lines[1].startswith("Course topics by module")
    assert "> quz" in lines and "Did you mean quiz?" in result.stdout
    assert lines[lines.index("> /whoami") + 1] == "(ann in a direct message, admin)"
    assert lines.count(">") == 0 and "> \n" not in result.stdout, "blank lines are not echoed"


def test_chat_into_a_closed_pipe_exits_silently(tmp_path: Path) -> None:
    shell = subprocess.run(["bash", "-c", f"printf 'topics\\nhelp\\n' | {sys.executable} -m "
                            "adapters.cli chat | head -2; echo \"status=${PIPESTATUS[1]}\""],
                           capture_output=True, text=True, env=env_for(tmp_path), cwd=ROOT,
                           timeout=60)
    lines = shell.stdout.splitlines()
    assert len(lines) == 3 and lines[0] == "> topics", shell.stdout
    assert lines[1].startswith("Course topics by module")
    assert "status=0" in shell.stdout and "Traceback" not in shell.stderr, shell.stderr
    proc = subprocess.Popen(cli("chat"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env_for(tmp_path), cwd=ROOT)
    assert proc.stdin and proc.stdout
    proc.stdin.write(b"topics\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"> topics\n"
    proc.stdout.close()  # the reader goes away mid-conversation
    _, err = proc.communicate(b"help\nwhat is s3\n", timeout=60)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"Exception closing connection" not in err, err.decode()


class Terminal:
    """The controlling side of a pty: what the console printed, read up to a marker."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def until(self, want: bytes, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        while want not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0, f"waited for {want!r}, saw {self.buffer[-500:]!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the console closed the terminal
                    chunk = b""
                assert chunk, f"the console ended before {want!r}: {self.buffer[-500:]!r}"
                self.buffer += chunk
        cut = self.buffer.index(want) + len(want)
        seen, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return seen


def test_ctrl_c_in_a_terminal_leaves_at_the_first_press_quietly(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(cli("chat", "--user", "ann"), stdin=terminal, stdout=terminal,
                            stderr=subprocess.PIPE, env=env_for(tmp_path), cwd=ROOT)
    os.close(terminal)
    screen = Terminal(controller)
    try:
        screen.until(b"aws-quiz console")
        screen.until(b"> ")
        os.write(controller, b"topics\r")
        screen.until(b"Quiz: AWS Partner Network\r\n\r\n> ")
        os.write(controller, b"\x1b[A\r")  # the Up arrow recalls `topics`: line editing works
        recalled = screen.until(b"Quiz: AWS Partner Network\r\n\r\n> ")
        assert b"Course topics by module" in recalled
        assert b"No confident match" not in recalled and b"^[[A" not in recalled
        time.sleep(0.5)  # a person presses Ctrl-C a moment after the prompt, not within a
        proc.send_signal(signal.SIGINT)  # microsecond (readline misses a signal that early)
        screen.until(b"bye")
        assert proc.wait(timeout=10) in (0, 130)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
    assert proc.stderr
    err = proc.stderr.read().decode()
    assert "Traceback" not in err and "Exception closing connection" not in err, err
    history = (tmp_path / "console_history").read_text()
    assert "topics" in history


def test_ctrl_c_with_piped_input_kept_open_leaves_quietly(tmp_path: Path) -> None:
    proc = subprocess.Popen(cli("chat"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env_for(tmp_path), cwd=ROOT)
    assert proc.stdin and proc.stdout and proc.stderr
    proc.stdin.write(b"help\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"> help\n"
    while proc.stdout.readline() != b"\n":
        pass  # the end of the reply: the console waits for the next line
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) in (0, 130)
    err = proc.stderr.read().decode()
    assert "Traceback" not in err and "Exception closing connection" not in err, err


async def test_exit_and_quit_typed_by_habit_leave_the_console(full: Core) -> None:
    session = Session(full)
    for word in ("exit", "quit", "QUIT", "/quit"):
        assert await session.chat.line(word) is False, word
    assert await session.chat.line("clear") is True
    assert "Nothing to clear here" in session.out.getvalue()
