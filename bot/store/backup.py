"""Backup and restore of the SQLite database with SQLite's online backup API (never a file copy).

A file copy of a live database in WAL mode misses whatever is still in `<name>-wal`; SQLite's
backup API (`sqlite3.Connection.backup`) reads the database through SQLite, WAL included, as one
consistent snapshot, while the server goes on writing. It runs in a thread so that the event
loop (and a server in the same process) is not blocked.

Restore checks the file first: a SQLite database, intact (`PRAGMA quick_check`), with our
tables and an `alembic_version` this code knows (the same as now, or older, upgraded after the
restore). It refuses while the target is open in another process (a running server holds it
open; leaving WAL mode needs every other connection closed, which is how this is detected),
keeps the previous file as `<name>.before-restore`, and puts the new one in place with an atomic
rename. PostgreSQL is backed up with `pg_dump` (docs/backup.md); nothing here writes for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.store.database import MIGRATIONS, Database

SQLITE_MAGIC = b"SQLite format 3\x00"
OUR_TABLES = ("users", "answers", "cards", "showings")
PG_BACKUP_HINT = ("DATABASE_URL is PostgreSQL: back it up with `pg_dump -Fc` and restore it with "
                  "`pg_restore --clean`, as docs/backup.md shows. Nothing was written.")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: where, how big, which schema version."""

    path: Path
    size: int
    revision: str


@dataclass(frozen=True)
class RestoreResult:
    """A finished restore: the file restored, the revision it had, the kept previous file."""

    path: Path
    restored_revision: str
    head: str
    previous: Path | None


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL (or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    """The newest schema version this code knows."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every schema version this code can upgrade from."""
    return {script.revision for script in _scripts().walk_revisions()}


def _revision_of(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return str(row[0]) if row else None


# -- backup -------------------------------------------------------------------------------

def _backup_file(source: Path, target: Path) -> BackupResult:
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # one step: one consistent snapshot, WAL included
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = dst.execute("PRAGMA quick_check").fetchone()
            revision = _revision_of(dst) or ""
        finally:
            dst.close()
    finally:
        src.close()
    if not check or check[0] != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed SQLite's check ({check}); nothing was written")
    os.replace(partial, target)
    return BackupResult(target, target.stat().st_size, revision)


def backup_target(path: Path, now: datetime | None = None) -> Path:
    """PATH itself, or a time-stamped file inside PATH when it is a folder."""
    if path.is_dir():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        return path / f"aws-quiz-{stamp}.db"
    return path


async def backup(url: str, path: Path, force: bool = False) -> BackupResult:
    """Copy the live SQLite database at `url` to `path` (a file, or a folder to put one in)."""
    source = sqlite_file(url)
    if source is None:
        raise BackupError(PG_BACKUP_HINT if make_url(url).get_backend_name() == "postgresql"
                          else f"cannot back up {make_url(url).render_as_string()}")
    if not source.is_file():
        raise BackupError(f"there is no database at {source} (check DATABASE_URL or "
                          "AWS_QUIZ_DATA)")
    target = backup_target(path)
    if target.resolve() == source.resolve():
        raise BackupError("the backup would overwrite the database itself; choose another path")
    if target.exists() and not force:
        raise BackupError(f"{target} exists already; use --force to replace it, or give a "
                          "folder to get a new time-stamped file in it")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    return await asyncio.to_thread(_backup_file, source, target)


# -- restore ------------------------------------------------------------------------------

def check_backup(path: Path) -> str:
    """The schema revision of a backup we can restore; BackupError saying why not otherwise."""
    if not path.is_file():
        raise BackupError(f"there is no file at {path}")
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} cannot be read as a SQLite database ({exc})") from None
        if not check or check[0] != "ok":
            raise BackupError(f"{path} is damaged: SQLite's check says {check[0] if check else '?'}")
        revision = _revision_of(conn)
    finally:
        conn.close()
    if revision is None or not set(OUR_TABLES) <= names:
        raise BackupError(f"{path} is not an aws-quiz database (no schema version or none of "
                          "our tables); nothing was restored")
    if revision not in known_revisions():
        raise BackupError(f"{path} has schema version {revision}, which this aws-quiz does not "
                          f"know (it knows up to {head_revision()}): it was made by a newer "
                          "aws-quiz, or by something else. Restore it with the version that "
                          "made it; nothing was restored")
    return revision


def _claim_target(target: Path) -> sqlite3.Connection | None:
    """An exclusive hold on the current database, proving that nobody else has it open;
    None when there is no database there yet."""
    if not target.exists():
        return None
    conn = sqlite3.connect(target, timeout=0.5, isolation_level=None)
    try:
        # A server keeps its connections open; in WAL mode each holds the shared-memory file,
        # and SQLite leaves WAL mode only when no other connection is open.
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()
        if not mode or str(mode[0]).lower() != "delete":
            raise sqlite3.OperationalError("database is locked")
        conn.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError(f"{target} is in use (is `aws-quiz serve` running?). Stop the "
                              "server, then restore; nothing was changed") from None
        raise BackupError(f"{target} cannot be opened ({exc}); nothing was changed") from None
    return conn


def _restore_file(source: Path, target: Path) -> Path | None:
    holder = _claim_target(target)
    staged = target.with_name(f".{target.name}.restoring")
    previous = target.with_name(f"{target.name}.before-restore") if holder is not None else None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(staged)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
            src.close()
        if holder is not None and previous is not None:
            # The current file is out of WAL mode and locked by us, so its bytes are the whole
            # database: a second name for them keeps it when the new file takes its place.
            kept = previous.with_name(f".{previous.name}.partial")
            kept.unlink(missing_ok=True)
            try:
                os.link(target, kept)
            except OSError:  # a file system without hard links
                shutil.copyfile(target, kept)
            os.replace(kept, previous)
        os.replace(staged, target)  # atomic: the old database or the new one, never half
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}-journal")):
            stale.unlink(missing_ok=True)
    finally:
        staged.unlink(missing_ok=True)
        if holder is not None:
            with contextlib.suppress(sqlite3.Error):
                holder.close()
    return previous


async def restore(url: str, path: Path) -> RestoreResult:
    """Put the backup at `path` in place of the SQLite database at `url`, then upgrade it."""
    target = sqlite_file(url)
    if target is None:
        raise BackupError(PG_BACKUP_HINT if make_url(url).get_backend_name() == "postgresql"
                          else f"cannot restore into {make_url(url).render_as_string()}")
    revision = await asyncio.to_thread(check_backup, path)
    if target.exists() and path.resolve() == target.resolve():
        raise BackupError("that file is the database itself; nothing to restore")
    previous = await asyncio.to_thread(_restore_file, path, target)
    db = Database(url)
    try:
        await db.upgrade()
    finally:
        await db.dispose()
    return RestoreResult(target, revision, head_revision(), previous)
