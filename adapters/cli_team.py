"""`aws-quiz report team`: the team readiness rows as CSV or JSON, for the enablement lead."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.config import Settings


def add_parser(subparsers: Any) -> None:
    """Add `report team --tenant T --format csv|json` to the command line."""
    report = subparsers.add_parser("report", help="exports for the enablement lead: `report team` (readiness per learner, CSV or JSON)")
    rsub = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    team = rsub.add_parser("team", help="readiness per learner of a workspace or tenant")
    team.add_argument("--tenant", required=True,
                      help="Slack team id, Teams tenant id, or `local` for the console")
    team.add_argument("--format", choices=["csv", "json"], default="csv",
                      help="csv (a header row, one row per learner) or json (a list of objects)")


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return value


async def _rows(settings: Settings, tenant: str,
                clock: Callable[[], datetime]) -> list[dict[str, Any]]:
    from bot.app import load_checked, open_database
    from bot.quiz.readiness import ReadinessFeature
    from bot.store.teamstore import TeamStore
    from bot.team import team_rows

    kb = load_checked(settings)
    db = await open_database(settings)
    try:
        feature = ReadinessFeature(kb, TeamStore(db), clock, settings.exam_pass_mark)
        return [row.as_dict() for row in await team_rows(feature, tenant)]
    finally:
        await db.dispose()


def run(args: argparse.Namespace, settings: Settings,
        clock: Callable[[], datetime] | None = None) -> int:
    """Print the rows `team` shows for `args.tenant`; 0, or 1 when the tenant has no learners
    (most likely a mistyped tenant id). `clock` is for tests."""
    from bot.store.database import utcnow  # the database layer loads only when it is used
    from bot.team import EXPORT_FIELDS

    rows = asyncio.run(_rows(settings, args.tenant, clock or utcnow))
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
    if not rows:
        print(f"aws-quiz: no learners in tenant {args.tenant!r} (tenants are Slack team ids, "
              "Teams tenant ids, or `local`)", file=sys.stderr)
        return 1
    return 0
