"""Shared fixtures: the shipped knowledge base (loaded once) and a core built on it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase, load_knowledge

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DATA = Path(__file__).resolve().parent / "data"
SHARED_EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"  # laid beside the repo


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


@pytest.fixture()
def core(kb: KnowledgeBase, tmp_path: Path) -> Core:
    settings = Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path)
    return build_core(settings, kb)


def run_cli(*args: str, stdin: str = "", env: dict[str, str] | None = None,
            cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `aws-quiz` as a user would, in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args], input=stdin, capture_output=True,
        text=True, env=full_env, cwd=cwd or ROOT, timeout=timeout,
    )


# -- databases: every store test runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set --

def _database_params() -> list[object]:
    params: list[object] = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get("TEST_DATABASE_URL"):
        params.append(pytest.param("postgresql", id="postgresql"))
    return params


async def _reset_postgres(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=_database_params())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'aws-quiz.db'}"
    url = os.environ["TEST_DATABASE_URL"]
    await _reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to the newest schema, copied for each test that needs a fresh
    database (running every migration for each of hundreds of tests costs about a minute)."""
    import asyncio

    from bot.store.database import Database

    path = tmp_path_factory.mktemp("template") / "aws-quiz.db"

    async def build() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await database.upgrade()
        await database.dispose()

    asyncio.run(build())
    return path


@pytest.fixture()
async def db(database_url: str, migrated_sqlite: Path):  # type: ignore[no-untyped-def]
    import shutil

    from bot.store.database import Database

    if database_url.startswith("sqlite"):
        target = Path(database_url.split("///", 1)[1])
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(migrated_sqlite, target)
    database = Database(database_url)
    await database.upgrade()  # a no-op on the copy; the real migrations on PostgreSQL
    yield database
    await database.dispose()


# -- a unit test that tries the real internet fails ---------------------------------------------

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            raise ConnectionRefusedError(f"tests may not reach the network ({host})")
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly whether the store contract ran on PostgreSQL (CI output is read for it)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        terminalreporter.write_line("PostgreSQL: not run (TEST_DATABASE_URL is not set)")
        return
    passed = [r for r in terminalreporter.stats.get("passed", []) if "[postgresql" in r.nodeid]
    failed = [r for r in terminalreporter.stats.get("failed", []) if "[postgresql" in r.nodeid]
    host = url.split("@")[-1]
    terminalreporter.write_line(f"PostgreSQL: {len(passed)} database tests passed, "
                                f"{len(failed)} failed, against {host}")
