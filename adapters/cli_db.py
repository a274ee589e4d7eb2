"""`aws-quiz db backup|restore|prune|export-user`: the operator's database commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings

COMMANDS = ("backup", "restore", "prune", "export-user")


def add_parser(db_subparsers: Any) -> None:
    """Add the commands to the `db` command's subparsers."""
    backup = db_subparsers.add_parser(
        "backup", help="copy the live SQLite database consistently (SQLite's backup API)",
        description="Copy the SQLite database while the server runs, WAL included. For "
                    "PostgreSQL use pg_dump (docs/backup.md).")
    backup.add_argument("path", type=Path,
                        help="the backup file, or a folder to put a time-stamped one in")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    restore = db_subparsers.add_parser(
        "restore", help="put a backup back (stop the server first)",
        description="Check the backup (ours, intact, a schema version this aws-quiz knows), "
                    "keep the current database as <name>.before-restore, put the backup in "
                    "place atomically and upgrade it to the newest schema.")
    restore.add_argument("path", type=Path, help="the backup file")
    db_subparsers.add_parser(
        "prune", help="apply AWS_QUIZ_RETENTION_DAYS now, and delete removed workspaces' data",
        description="Prune answer history older than AWS_QUIZ_RETENTION_DAYS (keeping totals) "
                    "and the data of workspaces that removed the app long enough ago. The "
                    "server does the same every hour.")
    export = db_subparsers.add_parser(
        "export-user", help="print everything stored about one person, as JSON",
        description="The same data `export me` gives a learner, whole, for a data request.")
    export.add_argument("--tenant", required=True, help="Slack team id, Teams tenant id, or local")
    export.add_argument("--user", required=True, help="the person's user id")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of COMMANDS; the exit status."""
    from bot.store.backup import BackupError

    try:
        if args.db_command == "backup":
            return asyncio.run(_backup(settings, args.path, args.force))
        if args.db_command == "restore":
            return asyncio.run(_restore(settings, args.path))
        if args.db_command == "prune":
            return asyncio.run(_prune(settings))
        if args.db_command == "export-user":
            return asyncio.run(_export(settings, args.tenant, args.user))
    except BackupError as exc:
        print(f"aws-quiz: {exc}", file=sys.stderr)
        return 2
    print(f"aws-quiz: unknown db command {args.db_command!r}", file=sys.stderr)
    return 2


async def _backup(settings: Settings, path: Path, force: bool) -> int:
    from bot.store.backup import backup

    result = await backup(settings.effective_database_url, path, force=force)
    print(f"backup written: {result.path} ({result.size:,} bytes, schema {result.revision}). "
          "It holds personal data: keep it as safe as the database.")
    return 0


async def _restore(settings: Settings, path: Path) -> int:
    from bot.store.backup import restore

    result = await restore(settings.effective_database_url, path)
    upgraded = (f", upgraded from schema {result.restored_revision} to {result.head}"
                if result.restored_revision != result.head else f" (schema {result.head})")
    kept = f"; the previous database is kept as {result.previous}" if result.previous else ""
    print(f"restored {path} into {result.path}{upgraded}{kept}")
    return 0


async def _prune(settings: Settings) -> int:
    from bot.app import open_database
    from bot.store.database import utcnow
    from bot.store.retention import prune

    db = await open_database(settings)
    try:
        counts = await prune(db, settings, utcnow())
    finally:
        await db.dispose()
    if not settings.retention_days:
        print("AWS_QUIZ_RETENTION_DAYS is 0: answer history is kept.")
    if counts:
        print("pruned: " + ", ".join(f"{kind} {n}" for kind, n in counts.items()))
    else:
        print("nothing to prune")
    return 0


async def _export(settings: Settings, tenant: str, user: str) -> int:
    from bot.app import open_database
    from bot.store.database import utcnow
    from bot.store.privacystore import PrivacyStore, export_document

    db = await open_database(settings)
    try:
        data = await PrivacyStore(db).export(tenant, user)
    finally:
        await db.dispose()
    if not data:
        print(f"aws-quiz: nothing is stored about {user!r} in tenant {tenant!r}", file=sys.stderr)
        return 1
    print(export_document(tenant, user, data, utcnow()))
    return 0
