"""Safe start-up: replicas that start together on a new database all migrate and start, and the
deployment manifests bring back a replica that exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from sqlalchemy import inspect

from bot.store.database import Database
from tests.conftest import ROOT

# Each process waits for the same wall-clock instant, then migrates: the race the lock closes.
MIGRATE_AT = """
import asyncio, sys, time
from bot.store.database import Database

async def main(url: str, at: float) -> None:
    db = Database(url)
    await asyncio.sleep(max(0.0, at - time.time()))
    try:
        await db.upgrade()
    finally:
        await db.dispose()

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


def migrate_together(url: str, processes: int) -> list[subprocess.CompletedProcess[str]]:
    at = time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, "-c", MIGRATE_AT, url, str(at)], cwd=ROOT,
                              env=os.environ.copy(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(processes)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


async def test_replicas_starting_together_on_a_new_database_all_migrate(
        database_url: str) -> None:
    results = migrate_together(database_url, 3)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr[-600:] for r in results]
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"users", "daily_posts", "alembic_version"} <= names
    finally:
        await db.dispose()


def test_compose_and_kubernetes_restart_a_replica_that_exits() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    bot = compose["services"]["bot"]
    assert bot.get("restart") in ("always", "unless-stopped", "on-failure")
    assert bot["depends_on"]["db"]["condition"] == "service_healthy", "start once the db answers"
    assert "healthcheck" in compose["services"]["db"]
    grace = int(bot["environment"].get("AWS_QUIZ_SHUTDOWN_GRACE_SECONDS", 25))
    assert int(str(bot["stop_grace_period"]).rstrip("s")) > grace

    docs = list(yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "aws-quiz.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod.get("restartPolicy", "Always") == "Always"
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    grace = int(env.get("AWS_QUIZ_SHUTDOWN_GRACE_SECONDS") or 25)
    assert pod["terminationGracePeriodSeconds"] > grace, "Kubernetes waits out our grace period"


# -- what `serve` says when it starts and stops -------------------------------------------------

def _serve_logs(tmp_path: Path, name: str, **extra: str) -> str:
    """Start `aws-quiz serve` on loopback, wait for /healthz, SIGTERM it; its log."""
    import signal
    import urllib.request

    from tests.test_serve import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "Microsoft", "TEAMS_", "AWS_QUIZ_ENV", "LOG_"))}
    env.update({"AWS_QUIZ_DATA": str(tmp_path / name), "PORT": str(port), **extra})
    log = tmp_path / f"{name}.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "serve", "--host",
                                 "127.0.0.1"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=err)
        try:
            for _ in range(900):
                assert proc.poll() is None, log.read_text()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                        break
                except OSError:
                    time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    return log.read_text().replace(str(port), "PORT")


def test_serve_says_where_it_listens_which_platforms_are_on_and_when_it_stops(
        tmp_path: Path) -> None:
    logs = _serve_logs(tmp_path, "on", SLACK_BOT_TOKEN="xoxb-startup",
                       SLACK_SIGNING_SECRET="startup-secret", SLACK_API_URL="http://127.0.0.1:9/",
                       TEAMS_LOCAL="true")
    assert "listening on http://127.0.0.1:PORT" in logs
    assert "Slack: on (one workspace, HTTP at /slack/events)" in logs
    assert "Teams: on, LOCAL MODE at /api/messages" in logs
    assert logs.count("Teams LOCAL MODE:") == 1 and "*" * 20 not in logs, "warned once, plainly"
    assert "will be unused" not in logs, "bolt's warning about our own client is silenced"
    assert logs.count("SIGTERM: stopping") == 1 and "stopped after" in logs
    assert "Traceback" not in logs and "xoxb-startup" not in logs

    logs = _serve_logs(tmp_path, "off")
    assert "Slack: off (no SLACK_BOT_TOKEN or SLACK_CLIENT_ID" in logs
    assert "Teams: off (no MicrosoftAppId" in logs
    assert "listening on http://127.0.0.1:PORT" in logs


def test_daily_run_due_for_cron_says_nothing_about_teams_local_mode(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    env = {k: "" for k in os.environ if k.startswith(("SLACK_", "Microsoft"))}
    result = run_cli("daily", "run-due", env={**env, "AWS_QUIZ_DATA": str(tmp_path),
                                              "TEAMS_LOCAL": "true"})
    assert result.returncode == 0, result.stderr
    assert "daily pass: 0 posted, 0 revealed, 0 failed" in result.stdout
    assert "LOCAL MODE" not in result.stderr and "LOCAL MODE" not in result.stdout
