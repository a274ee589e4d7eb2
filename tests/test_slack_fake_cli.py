"""The fake Slack's command line (docs/slack.md, "Trying it without Slack"), as a person uses it.

Every piece is its own process: the fake (`python -m tests.slack_fakes api`), `aws-quiz serve`,
and one short-lived `python -m tests.slack_fakes command|press|dm` per thing the person does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ROOT
from tests.test_serve import free_port

SECRET = "fake-cli-secret"


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def slack_and_app(data: Path) -> Iterator[list[str]]:
    """Start the fake and the app; yield the flags every CLI call needs."""
    api_port, app_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "Microsoft", "TEAMS_", "AWS_QUIZ_ENV"))}
    fake = subprocess.Popen([sys.executable, "-m", "tests.slack_fakes", "api", "--port",
                             str(api_port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    app: subprocess.Popen[str] | None = None
    try:
        assert fake.stdout is not None
        assert "fake Slack Web API at" in fake.stdout.readline()
        api = f"http://127.0.0.1:{api_port}/api/"
        app = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port",
             str(app_port)], cwd=ROOT, text=True, stdout=subprocess.DEVNULL,
            stderr=(data / "serve.log").open("w"),
            env={**env, "AWS_QUIZ_DATA": str(data), "SLACK_BOT_TOKEN": "xoxb-fake-cli",
                 "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api,
                 "AWS_QUIZ_SCHEDULER_SECONDS": "3600"})
        url = f"http://127.0.0.1:{app_port}"
        for _ in range(150):
            assert app.poll() is None, (data / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("aws-quiz serve did not start")
        yield ["--app", f"{url}/slack/events", "--api", api, "--secret", SECRET]
    finally:
        if app is not None:
            stop(app)
        stop(fake)


def slack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.slack_fakes", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_a_quiz_answer_button_and_a_dm_role_play_from_the_command_line(tmp_path: Path) -> None:
    with slack_and_app(tmp_path) as flags:
        quiz = slack("command", *flags, "quiz")
        assert quiz.returncode == 0, quiz.stderr
        assert quiz.stdout.startswith("HTTP 200")
        assert "(ephemeral)" in quiz.stdout and "buttons: [A] [B]" in quiz.stdout

        answer = slack("press", *flags, "a")
        for letter in "BCD":  # a choose-two question wants a second option first
            if "Correct!" in answer.stdout or "Not quite." in answer.stdout:
                break  # answered ("to go" may also be in an explanation's words)
            answer = slack("press", *flags, letter)
        assert answer.returncode == 0, answer.stderr
        assert "pressing [" in answer.stdout and "HTTP 200" in answer.stdout
        assert "Correct!" in answer.stdout or "Not quite." in answer.stdout
        assert "(replaces the message pressed)" in answer.stdout
        assert "[Next question]" in answer.stdout

        following = slack("press", *flags, "Next question")
        assert following.returncode == 0, following.stderr
        assert "Quiz ·" in following.stdout and "buttons: [A]" in following.stdout

        missing = slack("press", *flags, "No such button")
        assert missing.returncode == 1 and "no button labelled" in missing.stderr
        assert "[A]" in missing.stderr, "it tells you the buttons you can press"

        opening = slack("dm", *flags, "roleplay cost")
        assert opening.returncode == 0, opening.stderr
        assert "chat.postMessage (to DU1)" in opening.stdout
        assert "Role-play:" in opening.stdout and "[Hint] [End]" in opening.stdout

        turn = slack("dm", *flags, "I understand, that's a fair concern. What does your "
                                   "spend look like today?")
        assert turn.returncode == 0, turn.stderr
        assert "chat.postMessage (to DU1)" in turn.stdout and "This reply:" in turn.stdout

        hint = slack("press", *flags, "Hint")
        assert hint.returncode == 0 and "Hint" in hint.stdout.split("HTTP 200", 1)[1]

        forged = slack("dm", *flags[:-1], "not-the-secret", "hello")
        assert forged.stdout.startswith("HTTP 401") and "chat.postMessage" not in forged.stdout
