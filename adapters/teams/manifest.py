"""The Teams app package: manifest.json (schema v1.17), a colour and an outline icon, the zip.

The icons are drawn here with signed distances (anti-aliased) and written by a tiny PNG encoder
(zlib + CRC chunks), so packaging needs nothing but the standard library:

- `color.png`, 192x192: an orange ring and a white tick on AWS "squid ink" navy;
- `outline.png`, 32x32: the same ring and tick in pure white on a transparent background, as
  Teams requires for outline icons.

`deploy/teams/` holds the same files with a placeholder app id; regenerate them with
`python -m adapters.teams.manifest deploy/teams` after changing this module (a test checks that
they match).
"""

from __future__ import annotations

import io
import json
import math
import struct
import sys
import uuid
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1.17"
SCHEMA_URL = ("https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/"
              "MicrosoftTeams.schema.json")
PLACEHOLDER_APP_ID = "{{MicrosoftAppId}}"
SCOPES = ("personal", "team", "groupChat")
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
COLOR_SIZE = 192
OUTLINE_SIZE = 32

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


# -- a tiny PNG encoder --------------------------------------------------------------------------

def encode_png(width: int, height: int, rgba_rows: Sequence[bytes]) -> bytes:
    """8-bit RGBA, no interlace, filter 0 on every row."""
    if len(rgba_rows) != height or any(len(row) != width * 4 for row in rgba_rows):
        raise ValueError("rows do not match the size")

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + row for row in rgba_rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


# -- the icons, drawn with signed distances (negative inside) -------------------------------------

Shape = Callable[[float, float], float]


def _rounded_square(size: float, radius: float) -> Shape:
    half = size / 2

    def distance(x: float, y: float) -> float:
        qx, qy = abs(x - half) - (half - radius), abs(y - half) - (half - radius)
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        return outside + min(max(qx, qy), 0.0) - radius

    return distance


def _ring(cx: float, cy: float, radius: float, width: float) -> Shape:
    return lambda x, y: abs(math.hypot(x - cx, y - cy) - radius) - width / 2


def _polyline(points: Sequence[tuple[float, float]], width: float) -> Shape:
    segments = list(zip(points, points[1:], strict=False))

    def distance(x: float, y: float) -> float:
        best = math.inf
        for (ax, ay), (bx, by) in segments:
            dx, dy = bx - ax, by - ay
            t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
            best = min(best, math.hypot(x - ax - t * dx, y - ay - t * dy))
        return best - width / 2

    return distance


def _coverage(shape: Shape, x: int, y: int) -> float:
    return min(max(0.5 - shape(x + 0.5, y + 0.5), 0.0), 1.0)


def _draw(size: int, layers: Sequence[tuple[Shape, tuple[int, int, int]]],
          transparent: bool) -> bytes:
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            red = green = blue = alpha = 0.0
            for shape, (r, g, b) in layers:
                cover = _coverage(shape, x, y)
                if cover <= 0:
                    continue
                red = r * cover + red * (1 - cover)
                green = g * cover + green * (1 - cover)
                blue = b * cover + blue * (1 - cover)
                alpha = cover + alpha * (1 - cover)
            if transparent:
                row += bytes((255, 255, 255, round(alpha * 255)))
            else:
                scale = 1 / alpha if alpha > 0 else 0
                row += bytes((round(red * scale), round(green * scale), round(blue * scale),
                              round(alpha * 255)))
        rows.append(bytes(row))
    return encode_png(size, size, rows)


NAVY = (0x23, 0x2F, 0x3E)
ORANGE = (0xFF, 0x99, 0x00)
WHITE = (0xFF, 0xFF, 0xFF)


def color_icon() -> bytes:
    """192x192: orange ring and white tick on navy, rounded corners."""
    s = COLOR_SIZE / 192
    return _draw(COLOR_SIZE, [
        (_rounded_square(COLOR_SIZE, 36 * s), NAVY),
        (_ring(96 * s, 96 * s, 58 * s, 14 * s), ORANGE),
        (_polyline([(68 * s, 98 * s), (88 * s, 118 * s), (126 * s, 76 * s)], 15 * s), WHITE),
    ], transparent=False)


def outline_icon() -> bytes:
    """32x32: the ring and tick in white on transparent."""
    return _draw(OUTLINE_SIZE, [
        (_ring(16, 16, 13, 2.5), WHITE),
        (_polyline([(10.5, 16.5), (14.5, 20.5), (21.5, 12)], 3.0), WHITE),
    ], transparent=True)


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
    return {"manifest.json": manifest.encode("utf-8"), COLOR_ICON: color_icon(),
            OUTLINE_ICON: outline_icon()}


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
