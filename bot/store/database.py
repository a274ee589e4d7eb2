"""The async engine for DATABASE_URL (SQLite in WAL mode, or PostgreSQL) and its migrations."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key for migrations: any fixed 64-bit number unique to this application.
MIGRATION_LOCK_KEY = 0x61777371756978  # "awsquix"
SQLITE_LOCK_ATTEMPTS = 6


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Datetimes from SQLite come back naive; they were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _upgrade(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


class Database:
    """One engine per process; SQLite files get their folder created and WAL mode."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            # Enough kept connections for a busy process: a connection opened past the pool is
            # closed again after use, and opening one costs PostgreSQL a new backend process.
            # No ping before every statement (a round trip each); connections are recycled
            # after 30 minutes, and one that the server dropped fails its statement once and is
            # replaced (acknowledged work is retried, see WorkStore).
            kwargs.update(pool_size=15, max_overflow=10, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        # One statement is atomic on its own: on PostgreSQL it runs without BEGIN and
        # COMMIT (or ROLLBACK) around it, one round trip instead of three.
        self._single: AsyncEngine = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.dialect == "postgresql" else self.engine)

    async def first(self, statement: Any) -> Any:
        """The first row a query returns, or None."""
        async with self._single.connect() as connection:
            return (await connection.execute(statement)).first()

    async def rows(self, statement: Any) -> Sequence[Any]:
        """Every row a query returns."""
        async with self._single.connect() as connection:
            return (await connection.execute(statement)).all()

    async def execute(self, statement: Any) -> int:
        """Run one write (atomic on its own); the number of rows it touched."""
        async with self._single.begin() as connection:
            return int((await connection.execute(statement)).rowcount)

    def upsert(self, table: Any) -> Any:
        """An INSERT that supports `.on_conflict_do_update` on this database's dialect."""
        if self.dialect == "postgresql":
            return pg_insert(table)
        return sqlite_insert(table)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    async def upgrade(self, revision: str = "head") -> None:
        """Run Alembic migrations up to `revision`, holding the database's migration lock.

        Any number of replicas may start together on a new database: on PostgreSQL the first
        takes a transaction-level advisory lock and migrates, the others wait for it and then
        find the schema current. On SQLite, `BEGIN IMMEDIATE` takes the file's write lock
        before anything is read, with the same effect (other processes wait up to the busy
        timeout, and retry after it).
        """
        if self.dialect == "postgresql":
            async with self.engine.begin() as connection:
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                         {"key": MIGRATION_LOCK_KEY})
                await connection.run_sync(_upgrade, revision)
            return
        for attempt in range(SQLITE_LOCK_ATTEMPTS):
            try:
                async with self.engine.connect() as connection:
                    await connection.exec_driver_sql("BEGIN IMMEDIATE")
                    await connection.run_sync(_upgrade, revision)
                    await connection.commit()
                return
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == SQLITE_LOCK_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))

    async def ping(self) -> bool:
        """True when the database answers."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
