"""`aws-quiz knowledge reload`: ask a running server to load its knowledge folder again.

It POSTs to the server's `/-/reload` (by default `http://127.0.0.1:$PORT`, this machine, which
the server accepts without a token; with `--url` another one, with `Authorization: Bearer
$AWS_QUIZ_ADMIN_TOKEN`) and prints the outcome: the new version, or every error with its file
and line while the server goes on with the version it had. The server reloads the folder it was
started with (its AWS_QUIZ_KNOWLEDGE), not this shell's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from bot.config import Settings


def add_parser(knowledge_subparsers: Any) -> argparse.ArgumentParser:
    """Add `reload` to the `knowledge` sub-commands."""
    reload = knowledge_subparsers.add_parser(
        "reload", help="make a running server load its knowledge folder again (validated "
                       "first; a broken set is refused and the old one stays)")
    reload.add_argument("--url", default=None,
                        help="the server (default http://127.0.0.1:$PORT, i.e. port 3978); "
                             "another machine needs AWS_QUIZ_ADMIN_TOKEN")
    reload.add_argument("--json", action="store_true", help="print the server's answer as JSON")
    reload.add_argument("--timeout", type=float, default=60.0, help=argparse.SUPPRESS)
    return reload


def _post(url: str, timeout: float) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    token = os.environ.get("AWS_QUIZ_ADMIN_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except ValueError:
            return error.code, {"error": f"HTTP {error.code}"}


def run(args: argparse.Namespace, settings: Settings) -> int:
    """0 reloaded or unchanged, 1 refused or failed, 2 when the server cannot be asked."""
    base = (args.url or f"http://127.0.0.1:{os.environ.get('PORT') or '3978'}").rstrip("/")
    url = base if base.endswith("/-/reload") else f"{base}/-/reload"
    try:
        status, answer = _post(url, args.timeout)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"aws-quiz: no server answered at {base} ({reason}); is `aws-quiz serve` "
              f"running? (--url to name another)", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    if status == 403:
        print(f"aws-quiz: {answer.get('error', 'refused')}", file=sys.stderr)
        return 2
    outcome = answer.get("status")
    if outcome not in ("reloaded", "unchanged", "refused", "failed"):
        print(f"aws-quiz: unexpected answer from {url} (HTTP {status})", file=sys.stderr)
        return 2
    if not args.json:
        _print(answer)
    return 0 if outcome in ("reloaded", "unchanged") else 1


def _print(answer: dict[str, Any]) -> None:
    outcome = answer["status"]
    if outcome == "reloaded":
        print(f"knowledge reloaded: version {answer['version']} (was {answer['previous']}): "
              f"{answer['entries']} entries, {answer['questions']} questions, "
              f"{answer['scenarios']} scenarios")
        print(f"questions: {len(answer.get('questions_added', []))} added, "
              f"{len(answer.get('questions_removed', []))} removed (their progress is kept "
              f"but no longer used), {len(answer.get('questions_changed', []))} changed (their "
              f"progress is kept)")
    elif outcome == "unchanged":
        print(f"knowledge unchanged: version {answer['version']} is already in service")
    else:
        for error in answer.get("errors", []):
            print(f"error: {error}", file=sys.stderr)
        print(f"aws-quiz: reload {outcome}: {len(answer.get('errors', []))} problem(s); the "
              f"server still serves version {answer['version']}", file=sys.stderr)
    if answer.get("workers"):
        print(answer["workers"])
