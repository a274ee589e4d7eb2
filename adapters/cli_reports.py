"""`aws-quiz reports`: export learners' reports (every tenant) for the content authors."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.knowledge.checker import display_path
from bot.knowledge.schema import KnowledgeBase

if TYPE_CHECKING:  # `aws-quiz ask` builds this parser and must not import the database layer
    from bot.store.reportstore import Report

OPEN, RESOLVED = "open", "resolved"  # as in bot.store.reportstore

FIELDS = ("id", "status", "created_at", "platform", "tenant", "user_id", "user_name", "kind",
          "item_id", "item_text", "correct_answer", "source", "text", "resolved_at",
          "resolved_by", "resolution")


def add_parser(subparsers: Any) -> None:
    """Add `reports [--status open|resolved|all] [--format csv|json|text]`."""
    reports = subparsers.add_parser(
        "reports", help="export learners' reports on questions and entries (all workspaces)",
        description="Print every report learners filed with `report`, with the item's current "
                    "text and the YAML file (and line) it comes from, so authors can fix it.")
    reports.add_argument("--status", choices=["open", "resolved", "all"], default="open",
                         help="which reports (default: open)")
    reports.add_argument("--format", choices=["csv", "json", "text"], default="text",
                         dest="output_format", help="output format (default: text)")


def _source(kb: KnowledgeBase, kind: str, item_id: str, knowledge_dir: Path) -> str:
    """Where an item is written: its file and line as the loader recorded them, else the
    domain's file."""
    item = kb.questions.get(item_id) if kind == "question" else kb.entries.get(item_id)
    if item is None:
        return ""
    if item.file:
        return f"{item.file}:{item.line}" if item.line else item.file
    folder = knowledge_dir / "questions" if kind == "question" else knowledge_dir
    return display_path(folder / f"{item.domain}.yaml")


def row(kb: KnowledgeBase, report: Report, knowledge_dir: Path) -> dict[str, str]:
    """One report as flat strings, with the item's current text and where to edit it."""
    item_text = correct = ""
    if report.kind == "question":
        question = kb.questions.get(report.item_id)
        if question is not None:
            item_text = question.prompt
            correct = " | ".join(question.correct_texts)
    else:
        entry = kb.entries.get(report.item_id)
        if entry is not None:
            item_text = entry.title
    if not item_text:
        item_text = "(no longer in the knowledge base)"
    return {
        "id": report.id, "status": report.status,
        "created_at": report.created_at.isoformat(timespec="seconds"),
        "platform": report.platform, "tenant": report.tenant, "user_id": report.user_id,
        "user_name": report.user_name, "kind": report.kind, "item_id": report.item_id,
        "item_text": item_text, "correct_answer": correct,
        "source": _source(kb, report.kind, report.item_id, knowledge_dir), "text": report.text,
        "resolved_at": report.resolved_at.isoformat(timespec="seconds")
        if report.resolved_at else "",
        "resolved_by": report.resolved_by or "", "resolution": report.resolution or "",
    }


def _print_text(rows: list[dict[str, str]]) -> None:
    if not rows:
        print("no reports")
        return
    for r in rows:
        print(f"{r['id']}  {r['status']}  {r['created_at']}  {r['kind']} {r['item_id']}"
              f"  ({r['source'] or 'source unknown'})")
        print(f"  item:    {r['item_text']}")
        if r["correct_answer"]:
            print(f"  answer:  {r['correct_answer']}")
        print(f"  report:  {r['text']}  — {r['user_name']} ({r['platform']} {r['tenant']})")
        if r["status"] == RESOLVED:
            print(f"  resolved {r['resolved_at']} by {r['resolved_by']}: {r['resolution']}")
        print()


async def _export(settings: Settings, statuses: tuple[str, ...]) -> list[dict[str, str]]:
    from bot.app import load_checked, open_database
    from bot.store.reportstore import ReportStore

    kb = load_checked(settings)
    db = await open_database(settings)
    try:
        found = await ReportStore(db).export(statuses)
    finally:
        await db.dispose()
    return [row(kb, report, Path(settings.knowledge_dir)) for report in found]


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the reports; 0 on success."""
    statuses = {"open": (OPEN,), "resolved": (RESOLVED,), "all": (OPEN, RESOLVED)}[args.status]
    rows = asyncio.run(_export(settings, statuses))
    if args.output_format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif args.output_format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print_text(rows)
    return 0
