"""`aws-quiz teams package`: write the app package (zip) a Teams admin uploads."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from adapters.teams.manifest import COMMANDS, SCOPES, AppInfo, build_package, check_app_id


def register(subparsers: Any) -> None:
    """Add `teams package` to the `aws-quiz` command line."""
    teams = subparsers.add_parser("teams", help="Microsoft Teams: build the app package")
    tsub = teams.add_subparsers(dest="teams_command", metavar="ACTION", required=True)
    package = tsub.add_parser(
        "package", help="write the Teams app package (manifest.json + icons, zipped)",
        description="Write the zip a Teams admin uploads (Teams admin center > Manage apps > "
                    "Upload, or Teams > Apps > Manage your apps > Upload an app). See "
                    "docs/teams.md.")
    package.add_argument("--app-id", default=os.environ.get("MicrosoftAppId") or None,
                         help="the bot's Microsoft App ID, a GUID (default: $MicrosoftAppId)")
    package.add_argument("--out", default="aws-quiz-teams.zip", type=Path,
                         help="where to write the zip (default: aws-quiz-teams.zip)")
    package.add_argument("--version", default="1.0.0", dest="app_version",
                         help="the app's version; raise it for every upload (default 1.0.0)")
    package.add_argument("--name", default="AWS Quiz", help="short name shown in Teams "
                         "(at most 30 characters)")
    package.add_argument("--developer", default="aws-quiz", help="publisher name")
    package.add_argument("--website-url", default=AppInfo.website_url)
    package.add_argument("--privacy-url", default=AppInfo.privacy_url)
    package.add_argument("--terms-url", default=AppInfo.terms_url)


def run(args: argparse.Namespace) -> int:
    """Run `aws-quiz teams <action>`; 0 on success, 2 on a usage error."""
    if getattr(args, "teams_command", None) != "package":
        print("aws-quiz teams: unknown action (try `aws-quiz teams package --help`)",
              file=sys.stderr)
        return 2
    if not args.app_id:
        print("aws-quiz teams package: --app-id is required (or set MicrosoftAppId)",
              file=sys.stderr)
        return 2
    try:
        app_id = check_app_id(args.app_id)
    except ValueError as exc:
        print(f"aws-quiz teams package: {exc}", file=sys.stderr)
        return 2
    if len(args.name) > 30:
        print("aws-quiz teams package: --name must be at most 30 characters", file=sys.stderr)
        return 2
    for url in (args.website_url, args.privacy_url, args.terms_url):
        if not url.startswith("https://"):
            print(f"aws-quiz teams package: {url!r} must be an https:// URL", file=sys.stderr)
            return 2
    info = AppInfo(app_id=app_id, version=args.app_version, short_name=args.name,
                   developer_name=args.developer, website_url=args.website_url,
                   privacy_url=args.privacy_url, terms_url=args.terms_url)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(build_package(info))
    print(f"wrote {out}: manifest v{info.version} for app {app_id}, scopes "
          f"{', '.join(SCOPES)}, {len(COMMANDS)} commands, icons color.png (192x192) and "
          f"outline.png (32x32)")
    print("Upload it in Teams: Apps > Manage your apps > Upload an app (or the Teams admin "
          "center). See docs/teams.md.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point until the lead wires `register`/`run` into adapters/cli.py."""
    parser = argparse.ArgumentParser(prog="aws-quiz")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
