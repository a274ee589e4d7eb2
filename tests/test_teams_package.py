"""`aws-quiz teams package`: the zip a Teams admin uploads, and deploy/teams/ kept in step."""

from __future__ import annotations

import argparse
import fnmatch
import io
import json
import struct
import subprocess
import sys
import tomllib
import zipfile
import zlib
from pathlib import Path

import pytest

from adapters.teams import cli
from adapters.teams.manifest import COMMANDS, PLACEHOLDER_APP_ID, AppInfo, package_files
from tests.conftest import ROOT

APP_ID = "0a1b2c3d-1111-2222-3333-444455556666"


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, RGBA rows) of an 8-bit RGBA PNG with filter 0 (what we write)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, width, height = 8, b"", 0, 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        tag = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, f"bad CRC in {tag!r}"
        if tag == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 6), "8-bit RGBA"
        elif tag == b"IDAT":
            idat += body
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    rows = [raw[y * stride:(y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


def test_the_package_carries_the_app_id_the_three_scopes_and_both_icons(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dist" / "app.zip"
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    assert cli.run(parser.parse_args(["teams", "package", "--app-id", APP_ID, "--out",
                                      str(out)])) == 0
    assert "wrote" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = read_png(archive.read("color.png"))
        outline = read_png(archive.read("outline.png"))
    assert manifest["manifestVersion"] == "1.17" and "v1.17" in manifest["$schema"]
    assert manifest["id"] == APP_ID
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles == ["help", "ask", "topics", "quiz", "exam", "review", "roleplay", "stats",
                      "leaderboard", "daily"]
    assert all(len(c["description"]) <= 128 for c in bot["commandLists"][0]["commands"])
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert manifest["webApplicationInfo"]["id"] == APP_ID
    assert {"name": "TeamMember.Read.Group", "type": "Application"} in \
        manifest["authorization"]["permissions"]["resourceSpecific"]

    width, height, rows = color
    assert (width, height) == (192, 192)
    colours = {bytes(row[x:x + 3]) for row in rows for x in range(0, len(row), 4)}
    assert len(colours) > 10, "a colour icon, not a blank square"
    width, height, rows = outline
    assert (width, height) == (32, 32)
    pixels = [row[x:x + 4] for row in rows for x in range(0, len(row), 4)]
    assert all(p[:3] == b"\xff\xff\xff" for p in pixels), "outline: white only"
    alphas = {p[3] for p in pixels}
    assert 0 in alphas and 255 in alphas, "white on transparent"


def test_bad_app_ids_and_urls_are_refused(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["teams", "package", "--app-id", "my-bot", "--out",
                     str(tmp_path / "a.zip")]) == 2
    assert "GUID" in capsys.readouterr().err
    assert cli.main(["teams", "package", "--app-id", APP_ID, "--website-url", "http://x",
                     "--out", str(tmp_path / "a.zip")]) == 2
    assert not (tmp_path / "a.zip").exists()


def test_deploy_teams_matches_what_the_code_generates() -> None:
    folder = ROOT / "deploy" / "teams"
    expected = package_files(AppInfo(PLACEHOLDER_APP_ID))
    assert json.loads((folder / "manifest.json").read_text()) == \
        json.loads(expected["manifest.json"])
    for name in ("color.png", "outline.png"):
        assert read_png((folder / name).read_bytes()) == read_png(expected[name]), \
            f"regenerate with: python -m adapters.teams.manifest deploy/teams ({name})"
    assert len(COMMANDS) == 10


def test_an_installed_package_ships_the_icons() -> None:
    """`pip install .` (the Docker image) copies only declared package data."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["adapters.teams"]
    icons = ROOT / "adapters" / "teams" / "icons"
    for name, size in (("color.png", 192), ("outline.png", 32)):
        assert any(fnmatch.fnmatch(f"icons/{name}", pattern) for pattern in declared)
        assert read_png((icons / name).read_bytes())[:2] == (size, size)


def test_the_command_runs_as_a_program(tmp_path: Path) -> None:
    out = tmp_path / "app.zip"
    result = subprocess.run([sys.executable, "-m", "adapters.teams.cli", "teams", "package",
                             "--app-id", APP_ID, "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(zipfile.ZipFile(io.BytesIO(out.read_bytes())).read("manifest.json"))[
        "id"] == APP_ID
