"""A console session driven end to end through a subprocess with piped input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot.knowledge import load_knowledge
from tests.conftest import ROOT, run_cli


def test_piped_console_session_answers_lookups_and_choices() -> None:
    script = "\n".join([
        "help",
        "what is a nacl",
        "1",
        "/as bob",
        "/whoami",
        "/channel general",
        "/whoami",
        "gaurdduty",
        "/quit",
        "this line is never read",
    ]) + "\n"
    result = run_cli("chat", "--user", "alice", stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == "> help", "no prompts when piped; each line is echoed"
    assert "ask <question>" in out
    assert "network access control" in out.lower()
    assert "[1] " in out, "related entries are offered as numbered choices"
    assert "(bob in a direct message" in out
    assert "(bob in #general" in out
    assert "GuardDuty" in out
    assert "never read" not in out


def test_console_ends_cleanly_at_end_of_input() -> None:
    result = run_cli("chat", stdin="topics\n")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "Course topics" in result.stdout


class ConsoleProcess:
    """`aws-quiz chat` in a subprocess, driven one line at a time like a person at a terminal."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "chat", "--user", "alice"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, **env})

    def say(self, line: str) -> str:
        """Send a line; return the reply block (after the echoed `> line`, up to the blank line
        that ends it)."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == f"> {line}\n", "piped input is echoed"
        lines: list[str] = []
        while True:
            out = self.proc.stdout.readline()
            assert out, "console ended unexpectedly"
            if out == "\n" and lines:
                return "".join(lines)
            lines.append(out)

    def close(self) -> int:
        assert self.proc.stdin
        self.proc.stdin.close()
        return self.proc.wait(timeout=30)


def correct_letter(block: str, want_correct: bool) -> str:
    """The letter a learner who knows (or not) the answer would type."""
    kb = load_knowledge(ROOT / "knowledge")
    prompt = block.splitlines()[1]
    question = next(q for q in kb.questions.values() if q.prompt == prompt)
    letters = dict(re.findall(r"^([A-H])\) (.+)$", block, flags=re.M))
    for letter, text in letters.items():
        index = [o.text for o in question.options].index(text)
        if (index in question.answer) == want_correct:
            return letter.lower()
    raise AssertionError(block)


def test_scripted_quiz_moves_stats_and_a_new_process_sees_them(tmp_path: Path) -> None:
    env = {"AWS_QUIZ_DATA": str(tmp_path)}
    console = ConsoleProcess(env)
    assert "Answered: 0" in console.say("stats")
    outcomes = []
    for want in (True, False):
        block = console.say("quiz Amazon S3")
        while "Pick " in block and "one button at a time" in block:  # choose-two: skip ahead
            block = console.say("quiz Amazon S3")
        assert "  [A] [B]" in block, "answers are lettered buttons, not numbers"
        feedback = console.say(correct_letter(block, want))
        outcomes.append(feedback.splitlines()[0])
    assert outcomes == ["✅ Correct!", "❌ Not quite."]
    stats = console.say("stats")
    assert "Answered: 2 · correct: 1 · accuracy: 50 %" in stats
    assert console.close() == 0

    again = ConsoleProcess(env)
    assert again.say("stats") == stats, "a new process on the same database shows the same stats"
    assert again.close() == 0


def test_scripted_roleplay_reaches_a_scorecard_for_every_topic(tmp_path: Path) -> None:
    for topic in ("security", "cost", "scalability"):
        script = "\n".join([
            f"roleplay {topic}",
            "I understand why that matters to you. What worries you most about it?",
            "It is definitely guaranteed and never fails, trust me: just use IAM, KMS and SCPs.",
            "end",
        ]) + "\n"
        result = run_cli("chat", "--user", "ann", stdin=script,
                         env={"AWS_QUIZ_DATA": str(tmp_path / topic)})
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert f"({topic}, " in out and "Scorecard:" in out and "Model answers" in out
        assert 'Stop: absolutes - "definitely", "guaranteed", "never"' in out


def test_negated_encryption_earns_no_credit() -> None:
    import json

    negated = run_cli("roleplay", "grade", "--topic", "security", "--json",
                      "Your data is not encrypted at rest.")
    positive = run_cli("roleplay", "grade", "--topic", "security", "--json",
                       "Your data is encrypted at rest.")
    def concept_evidence(output: str) -> list[str]:
        grade = json.loads(output)
        return next(c["evidence"] for c in grade["criteria"] if c["name"] == "Continue: concepts")
    assert not any("encrypt" in e for e in concept_evidence(negated.stdout))
    assert any("encrypt" in e for e in concept_evidence(positive.stdout))
