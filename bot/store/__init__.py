"""Durable state: SQLAlchemy 2 async Core on SQLite (default) or PostgreSQL, Alembic migrations."""

from bot.store.database import Database, utcnow

__all__ = ["Database", "utcnow"]
