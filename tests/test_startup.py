"""Safe start-up: replicas that start together on a new database all migrate and start, and the
deployment manifests bring back a replica that exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

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

