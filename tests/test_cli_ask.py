"""The `aws-quiz ask` contract: text, --json, and one JSON object per stdin line."""

from __future__ import annotations

import json

from tests.conftest import run_cli


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
