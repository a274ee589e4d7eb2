"""A console session driven end to end through a subprocess with piped input."""

from __future__ import annotations

from tests.conftest import run_cli


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
    assert "> " not in out.splitlines()[0], "no prompts when stdin is piped"
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
