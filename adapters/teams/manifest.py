"""The Teams app package: manifest.json (schema v1.17), a colour and an outline icon, the zip.

The icons ship as package data in `adapters/teams/icons/`: `color.png` (192x192, an orange ring
and a white tick on navy) and `outline.png` (32x32, the same in white on transparent, as Teams
requires). `deploy/teams/` holds the same files with a placeholder app id; regenerate it with
`python -m adapters.teams.manifest deploy/teams` (a test checks that it matches).
"""

from __future__ import annotations

import io
import json
import sys
import uuid
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1.17"
SCHEMA_URL = ("https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/"
              "MicrosoftTeams.schema.json")
PLACEHOLDER_APP_ID = "{{MicrosoftAppId}}"
SCOPES = ("personal", "team", "groupChat")
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"

COMMANDS: tuple[tuple[str, str], ...] = (
    ("help", "What I can do, with examples"),
    ("ask", "Look something up: ask what is Amazon EBS"),
    ("topics", "The course's domains, with counts"),
    ("quiz", "One question now: quiz [topic]"),
    ("exam", "A practice exam: exam [n] [topic]"),
    ("review", "The questions due for you today (spaced repetition)"),
    ("roleplay", "Practise a customer objection: roleplay [security|cost|scalability]"),
    ("stats", "Your progress per domain, streak and reviews due"),
    ("leaderboard", "This channel's ranking"),
    ("daily", "Daily question in a channel: daily on 09:00 Europe/Berlin | off | status"),
)


@dataclass(frozen=True)
class AppInfo:
    """What the manifest says about the app and who publishes it."""

    app_id: str
    version: str = "1.0.0"
    short_name: str = "AWS Quiz"
    developer_name: str = "aws-quiz"
    website_url: str = "https://aws.amazon.com/partners/training/"
    privacy_url: str = "https://aws.amazon.com/privacy/"
    terms_url: str = "https://aws.amazon.com/terms/"


def build_manifest(info: AppInfo) -> dict[str, Any]:
    """manifest.json for one bot registration (the app id is also the bot id)."""
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": SCHEMA_VERSION,
        "version": info.version,
        "id": info.app_id,
        "developer": {"name": info.developer_name, "websiteUrl": info.website_url,
                      "privacyUrl": info.privacy_url, "termsOfUseUrl": info.terms_url},
        "name": {"short": info.short_name,
                 "full": f"{info.short_name}: AWS Partner Accreditation (Technical) study bot"},
        "description": {
            "short": "Quizzes, lookups and role-play for the AWS Partner Accreditation.",
            "full": ("Study for the AWS Partner: Accreditation (Technical) course in Teams. Look "
                     "things up in plain language, take quizzes and practice exams that explain "
                     "every answer, review what you are forgetting (spaced repetition), practise "
                     "answering a customer's objections on security, cost or scalability, and "
                     "get a daily question in a channel. Chat with the bot, or @mention it in a "
                     "channel or group chat."),
        },
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": "#232F3E",
        "bots": [{
            "botId": info.app_id,
            "scopes": list(SCOPES),
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [{"scopes": list(SCOPES),
                              "commands": [{"title": title, "description": description}
                                           for title, description in COMMANDS]}],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
        "webApplicationInfo": {"id": info.app_id, "resource": "https://RscPermission"},
        "authorization": {"permissions": {"resourceSpecific": [
            {"name": "TeamMember.Read.Group", "type": "Application"}]}},
    }


# -- the package ---------------------------------------------------------------------------------

def check_app_id(app_id: str) -> str:
    """The app id as Teams wants it (a GUID), or ValueError saying what is wrong."""
    try:
        return str(uuid.UUID(app_id.strip()))
    except ValueError:
        raise ValueError(f"{app_id!r} is not a Microsoft App ID: expected a GUID such as "
                         "00000000-0000-0000-0000-000000000000 (Azure Bot > Configuration)"
                         ) from None


def package_files(info: AppInfo) -> dict[str, bytes]:
    """File name -> content of the app package."""
    manifest = json.dumps(build_manifest(info), indent=2, ensure_ascii=False) + "\n"
    icons = resources.files(__package__) / "icons"
    return {"manifest.json": manifest.encode("utf-8"),
            COLOR_ICON: (icons / COLOR_ICON).read_bytes(),
            OUTLINE_ICON: (icons / OUTLINE_ICON).read_bytes()}


def build_package(info: AppInfo) -> bytes:
    """The zip a Teams admin uploads: the three files at the root, nothing else."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in package_files(info).items():
            entry = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, content)
    return buffer.getvalue()


def write_template(folder: Path) -> None:
    """deploy/teams/: the manifest with a placeholder app id, and the two icons."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in package_files(AppInfo(PLACEHOLDER_APP_ID)).items():
        (folder / name).write_bytes(content)


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    write_template(Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/teams"))
