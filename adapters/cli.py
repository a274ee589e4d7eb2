"""The `aws-quiz` command line: chat, ask, knowledge check (the composition root)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from adapters.errors import ConfigError
from bot.config import Settings, SettingsError
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.knowledge.checked import KnowledgeInvalid, load_valid
from bot.knowledge.loader import coverage

if TYPE_CHECKING:  # the database layer and the lookup load only for the commands that use them
    from bot.lookup import LookupResult


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aws-quiz",
        description="A study bot for the AWS Partner: Accreditation (Technical) course.",
        epilog="Configuration comes from the environment: AWS_QUIZ_KNOWLEDGE (knowledge folder), "
               "DATABASE_URL (default: a SQLite file in ./data), AWS_QUIZ_DATA, LOG_LEVEL. "
               "See README.md.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    chat = sub.add_parser("chat", help="chat with the bot in this terminal (no tokens needed)")
    chat.add_argument("--user", default=None, help="who you are (default: your login name)")

    ask = sub.add_parser("ask", help="look something up in the knowledge base")
    ask.add_argument("--json", action="store_true",
                     help='print {"query", "confident", "matches": [{"id", "title", "score"}]}')
    ask.add_argument("query", nargs="+", help="the question; '-' reads one query per line from stdin")

    serve = sub.add_parser("serve", help="run the Slack/Teams server (aiohttp) and the scheduler")
    serve.add_argument("--host", default="0.0.0.0", help="interface to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None, help="port (default $PORT or 3978)")
    serve.add_argument("--workers", type=int, default=None,
                       help="processes sharing the port (default $AWS_QUIZ_WORKERS or 1)")
    serve.add_argument("--teams-local", action="store_true",
                       help="Teams local mode for development: no token checks, loopback only "
                            "(same as TEAMS_LOCAL=true; needs --host 127.0.0.1)")
    serve.add_argument("--listen-fd", type=int, default=None, help=argparse.SUPPRESS)

    daily = sub.add_parser("daily", help="the daily channel question")
    dsub = daily.add_subparsers(dest="daily_command", metavar="ACTION", required=True)
    dsub.add_parser("run-due", help="one scheduler pass (post and reveal what is due), for cron")

    roleplay = sub.add_parser("roleplay", help="objection role-play tools")
    rsub = roleplay.add_subparsers(dest="roleplay_command", metavar="ACTION", required=True)
    grade = rsub.add_parser("grade", help="grade a reply to a topic's default opening objection")
    grade.add_argument("--topic", required=True, choices=["security", "cost", "scalability"])
    grade.add_argument("--json", action="store_true", help="print the grade as JSON")
    grade.add_argument("reply", help="the learner's reply; '-' reads one reply per stdin line")

    from adapters.teams.cli import register as register_teams

    register_teams(sub)

    db = sub.add_parser("db", help="manage the database (DATABASE_URL)")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    dbsub.add_parser("upgrade", help="run the migrations up to the newest schema")
    from adapters.cli_db import add_parser as add_db_commands

    add_db_commands(dbsub)

    knowledge = sub.add_parser("knowledge", help="work with the knowledge base")
    ksub = knowledge.add_subparsers(dest="knowledge_command", metavar="ACTION", required=True)
    check = ksub.add_parser("check", help="validate every file and report coverage per section")
    check.add_argument("--json", action="store_true", help="print the report as JSON")

    from adapters.cli_knowledge import add_parser as add_reload_parser
    from adapters.cli_reports import add_parser as add_reports_parser
    from adapters.cli_team import add_parser as add_report_parser

    add_reload_parser(ksub)
    add_reports_parser(sub)
    add_report_parser(sub)
    return parser


def _result_json(result: LookupResult) -> str:
    return json.dumps({
        "query": result.query,
        "confident": result.confident,
        "matches": [{"id": m.entry.id, "title": m.entry.title, "score": m.score}
                    for m in result.matches],
    }, ensure_ascii=False)


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.lookup import Lookup

    kb = load_valid(settings.knowledge_dir)
    lookup = Lookup(kb.entries.values())
    queries: Sequence[str]
    if args.query == ["-"]:
        queries = [line.rstrip("\n") for line in sys.stdin]
    else:
        queries = [" ".join(args.query)]
    if args.json:
        for query in queries:
            print(_result_json(lookup.search(query)), flush=True)
        return 0
    from adapters.console import render
    from bot.answers import entry_reply

    for query in queries:
        print(render(entry_reply(kb, lookup.search(query))))
        print()
    return 0


def _print_check(kb: KnowledgeBase, as_json: bool) -> int:
    report = coverage(kb)
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 1 if kb.errors else 0
    for error in kb.errors:
        print(f"error: {error}", file=sys.stderr)
    module = ""
    for row in report["sections"]:
        if row["module"] != module:
            module = row["module"]
            print(f"{module}")
        flag = "  <- no entries" if row["entries"] == 0 else ""
        print(f"  {row['section']:<52} {row['entries']:>3} entries {row['questions']:>3} "
              f"questions{flag}")
    if "question_bank" in report:  # fairness figures of the quiz questions; misses are warnings
        from bot.knowledge.bankstats import report_lines

        print("question bank")
        for line in report_lines(report["question_bank"]):
            print(f"  {line}")
    scenarios = report.get("scenarios_per_topic", {})
    wide = report.get("misconceptions_per_topic", {})
    own = report.get("scenario_misconceptions_per_topic", {})
    if scenarios:
        print("role-play")
        for topic, count in scenarios.items():
            print(f"  {topic:<52} {count:>3} scenarios {wide.get(topic, 0):>3} misconceptions"
                  f" (+{own.get(topic, 0)} in scenarios)")
    print(f"{report['entries']} entries, {report['questions']} questions, "
          f"{sum(scenarios.values())} scenarios, {sum(wide.values()) + sum(own.values())} "
          f"misconceptions, {len(report['uncovered'])} sections uncovered, "
          f"{len(kb.errors)} errors")
    return 1 if kb.errors or report["uncovered"] else 0


def _cmd_grade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.roleplay.dialogue import former_name_map
    from bot.roleplay.grader import grade, keep_start_stop
    from bot.roleplay.scenarios import default_scenario

    kb = load_valid(settings.knowledge_dir)
    scenario = default_scenario(kb.scenarios, args.topic)
    if scenario is None:
        print(f"aws-quiz: no default {args.topic} scenario", file=sys.stderr)
        return 2
    former = former_name_map(kb)
    replies = [line.rstrip("\n") for line in sys.stdin] if args.reply == "-" else [args.reply]
    as_json = args.json or args.reply == "-"
    for reply in replies:
        result = grade(reply, scenario, "opening", "", former)
        if as_json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
            continue
        print(f"{result.score}/100 ({result.band}) against {scenario.persona.name}: "
              f"\"{scenario.opening_line}\"")
        for criterion in result.criteria:
            quoted = "; ".join(f'"{e}"' for e in criterion.evidence)
            print(f"  {criterion.name:<28} {criterion.points:>3}/{criterion.max:<3} {quoted}")
        for penalty in result.penalties:
            quoted = "; ".join(f'"{e}"' for e in penalty.evidence)
            print(f"  {penalty.rule:<28} {penalty.points:>3}     {quoted}")
        for line in keep_start_stop(result):
            print(f"  {line}")
        for suggestion in result.suggestions:
            print(f"  {suggestion}")
    return 0


async def _chat(settings: Settings, user: str) -> None:
    from adapters.console import Interrupts, run_console
    from bot.app import build_core, open_database

    interrupts = Interrupts()  # Ctrl-C during start-up too: leave once the database is open
    with interrupts.installed():
        kb = load_valid(settings.knowledge_dir)
        db = await open_database(settings)
        try:
            core = build_core(settings, kb, db=db)
            await run_console(core, user=user, history=settings.data_dir / "console_history",
                              interrupts=interrupts)
        finally:
            await db.dispose()  # on Ctrl-C and a closed pipe too: no "Exception closing …"


def _silence_stdout() -> None:
    """The reader of our output went away (`| head`): drop what is left instead of a traceback.

    Python flushes stdout again at exit; pointing it at /dev/null keeps that flush quiet.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


async def _db_upgrade(settings: Settings) -> None:
    from bot.app import open_database

    db = await open_database(settings)
    print(f"database is up to date: {db.safe_url}")
    await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at interpreter exit
        return code
    except BrokenPipeError:  # `aws-quiz ask ... | head -1`: the reader has all it wanted
        _silence_stdout()
        return 0
    except KeyboardInterrupt:  # Ctrl-C outside the console's own handling
        return 130


def _main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"aws-quiz: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "knowledge":
            if args.knowledge_command == "reload":
                from adapters.cli_knowledge import run as run_reload

                return run_reload(args, settings)
            return _print_check(load_knowledge(settings.knowledge_dir), args.json)
        if args.command == "reports":
            from adapters.cli_reports import run as run_reports

            return run_reports(args, settings)
        if args.command == "report":
            from adapters.cli_team import run as run_report

            return run_report(args, settings)
        if args.command == "ask":
            return _cmd_ask(args, settings)
        if args.command == "chat":
            asyncio.run(_chat(settings, args.user or getpass.getuser() or "you"))
            return 0
        if args.command == "roleplay":
            return _cmd_grade(args, settings)
        if args.command == "teams":
            from adapters.teams.cli import run as run_teams

            return run_teams(args)
        if args.command == "db":
            if args.db_command != "upgrade":
                from adapters.cli_db import run as run_db

                return run_db(args, settings)
            asyncio.run(_db_upgrade(settings))
            return 0
        if args.command == "serve":
            import os

            from adapters.serve import serve

            if args.teams_local:
                os.environ["TEAMS_LOCAL"] = "true"
            raw = str(args.workers or os.environ.get("AWS_QUIZ_WORKERS") or "1")
            workers = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 3 else 0
            if not 1 <= workers <= 64:
                print("aws-quiz: --workers must be between 1 and 64", file=sys.stderr)
                return 2
            return serve(settings, args.host, args.port, workers=workers,
                         listen_fd=args.listen_fd)
        if args.command == "daily":
            from adapters.serve import daily_run_due

            return asyncio.run(daily_run_due(settings))
    except KnowledgeInvalid as exc:
        for error in exc.kb.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"aws-quiz: {exc}; run `aws-quiz knowledge check`", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"aws-quiz: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
