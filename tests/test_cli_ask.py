"""The `aws-quiz ask` contract: text, --json, and one JSON object per stdin line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, run_cli


def test_ask_prints_the_answer_as_text() -> None:
    result = run_cli("ask", "which service records API calls")
    assert result.returncode == 0
    assert "CLOUDTRAIL" in result.stdout.upper()


def test_ask_json_contract() -> None:
    result = run_cli("ask", "--json", "elastic beanstack")
    data = json.loads(result.stdout)
    assert set(data) == {"query", "confident", "matches"}
    assert data["query"] == "elastic beanstack"
    assert data["confident"] is True
    assert 1 <= len(data["matches"]) <= 5
    assert "Elastic Beanstalk" in data["matches"][0]["title"]
    scores = [m["score"] for m in data["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert set(data["matches"][0]) == {"id", "title", "score"}


def test_ask_json_stdin_one_object_per_line_in_order() -> None:
    queries = ["vpc", "recipe for lemon cake", "athenna"]
    result = run_cli("ask", "--json", "-", stdin="\n".join(queries) + "\n")
    lines = result.stdout.splitlines()
    assert [json.loads(line)["query"] for line in lines] == queries
    junk = json.loads(lines[1])
    assert junk["confident"] is False
    assert "Athena" in json.loads(lines[2])["matches"][0]["title"]


def test_a_bad_setting_is_named_without_a_traceback() -> None:
    result = run_cli("ask", "s3", env={"AWS_QUIZ_PASS_MARK": "seventy"})
    assert result.returncode == 2
    assert "AWS_QUIZ_PASS_MARK must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_into_a_closed_pipe_exits_silently(tmp_path: Path) -> None:
    env = {**os.environ, "AWS_QUIZ_DATA": str(tmp_path)}
    shell = subprocess.run(["bash", "-c", f"{sys.executable} -m adapters.cli ask 'transit "
                            "gateway' | head -1; echo \"status=${PIPESTATUS[0]}\""],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    lines = shell.stdout.splitlines()
    assert len(lines) == 2 and lines[0].strip() and lines[1] == "status=0", shell.stdout
    assert "Traceback" not in shell.stderr and shell.stderr == "", shell.stderr
    # The same, certain to hit the closed pipe: the reader is gone before anything is written.
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "ask", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout and proc.stdin
    proc.stdout.close()
    _, err = proc.communicate(b"transit gateway\nwhat is s3\n" * 50, timeout=60)
    assert proc.returncode == 0 and err == b"", err.decode()


def test_one_lookup_imports_no_database_server_or_platform_code() -> None:
    """`aws-quiz ask` stays a quick one-shot: the parser of every subcommand is built, but no
    database layer, web server or Slack/Teams SDK is imported for a lookup."""
    code = ("import sys; from adapters.cli import main; main(['ask', 'what is ebs']); "
            "print(' '.join(m for m in ('sqlalchemy', 'alembic', 'aiohttp', 'slack_bolt', "
            "'microsoft_agents', 'prometheus_client') if m in sys.modules) or 'none')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "none"
