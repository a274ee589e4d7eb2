"""`aws-quiz db backup` and `db restore`: a consistent copy of a live SQLite database, put back."""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters import cli_db
from bot.app import build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.store.backup import BackupError, backup, head_revision, restore
from bot.store.database import Database
from bot.store.quizstore import QuizStore
from bot.store.tables import answers
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat, shown_question_id


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def answer_one(chat: FakeChat, user: str) -> str:
    """Answer one quiz question through the router, pressing letters until it is answered
    (several for a pick-two question); its showing id once the router has replied."""
    [question] = await chat.push("quiz", user=user)
    showing_id = shown_question_id(question)
    reply = question
    for position in range(len(question.choices)):
        letter = next(c for c in question.choices if c.label == "ABCDEFGH"[position])
        [reply] = await chat.click(letter, user=user)
        if not any(c.value.startswith(showing_id) for c in reply.choices):
            break
    assert "Correct" in reply.text or "Not quite" in reply.text, reply.text
    return showing_id


async def stored_showings(url: str) -> set[str]:
    db = Database(url)
    try:
        return {r.showing_id for r in await db.rows(select(answers.c.showing_id))}
    finally:
        await db.dispose()


async def test_a_backup_during_writes_restores_every_acknowledged_answer(
        kb: KnowledgeBase, tmp_path: Path) -> None:
    live = tmp_path / "live" / "aws-quiz.db"
    db = Database(url_of(live))
    await db.upgrade()
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(5))
    acknowledged: list[str] = []
    stop = asyncio.Event()

    async def writer(user: str) -> None:
        chat = FakeChat(core.router)
        while not stop.is_set():
            acknowledged.append(await answer_one(chat, user))

    tasks = [asyncio.create_task(writer(f"U{n}")) for n in range(3)]  # three learners at once

    async def until(count: int) -> None:
        while len(acknowledged) < count:
            for task in tasks:
                if task.done():
                    task.result()  # the writer's error, if it failed
            await asyncio.sleep(0.01)

    await asyncio.wait_for(until(30), 60)
    before_backup = list(acknowledged)
    wal = Path(f"{live}-wal")
    assert wal.exists() and wal.stat().st_size > 0, "answers are still in the WAL: a file " \
        "copy of the database alone would miss them"
    result = await backup(db.url, tmp_path / "backup.db")  # in a thread: the writer goes on
    during = len(acknowledged)
    await asyncio.wait_for(until(during + 10), 60)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert result.revision == head_revision()

    # Into a new place (a new machine): the restore upgrades and holds every acknowledged answer.
    fresh = tmp_path / "fresh" / "aws-quiz.db"
    restored = await restore(url_of(fresh), result.path)
    assert restored.previous is None
    check = Database(url_of(fresh))
    await check.upgrade()  # what `aws-quiz db upgrade` does
    await check.dispose()
    kept = await stored_showings(url_of(fresh))
    assert set(before_backup) <= kept
    assert kept <= set(acknowledged)
    assert len(kept) < len(acknowledged), "answers after the backup are not in it"

    # In place, while the server still has the database open: refused, nothing touched.
    with pytest.raises(BackupError, match="in use"):
        await restore(db.url, result.path)
    assert len(await stored_showings(db.url)) == len(acknowledged)
    await db.dispose()

    # Server stopped: restored in place, the newer state kept beside it.
    restored = await restore(url_of(live), result.path)
    assert restored.previous == live.with_name("aws-quiz.db.before-restore")
    assert await stored_showings(url_of(live)) == kept
    assert await stored_showings(url_of(restored.previous)) == set(acknowledged)


async def test_an_older_backup_is_upgraded_and_foreign_or_newer_ones_are_refused(
        tmp_path: Path) -> None:
    old = Database(url_of(tmp_path / "old.db"))
    await old.upgrade("0005")
    await old.dispose()
    target = tmp_path / "data" / "aws-quiz.db"
    result = await restore(url_of(target), tmp_path / "old.db")
    assert (result.restored_revision, result.head) == ("0005", head_revision())
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
            head_revision()
    before = target.read_bytes()

    newer = tmp_path / "newer.db"
    await backup(url_of(target), newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(BackupError, match="0099.*does not know"):
        await restore(url_of(target), newer)

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(BackupError, match="not an aws-quiz database"):
        await restore(url_of(target), foreign)

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(BackupError, match="not a SQLite database"):
        await restore(url_of(target), text)
    with pytest.raises(BackupError, match="no file"):
        await restore(url_of(target), tmp_path / "missing.db")
    assert target.read_bytes() == before, "a refused restore changes nothing"


async def test_backup_refuses_to_overwrite_and_names_files_in_a_folder(tmp_path: Path) -> None:
    db = Database(url_of(tmp_path / "data" / "aws-quiz.db"))
    await db.upgrade()
    await db.dispose()
    first = await backup(db.url, tmp_path / "b.db")
    with pytest.raises(BackupError, match="exists already"):
        await backup(db.url, tmp_path / "b.db")
    assert (await backup(db.url, tmp_path / "b.db", force=True)).path == first.path
    folder = tmp_path / "backups"
    folder.mkdir()
    stamped = await backup(db.url, folder)
    assert stamped.path.parent == folder and stamped.path.name.startswith("aws-quiz-")
    with pytest.raises(BackupError, match="no database"):
        await backup(url_of(tmp_path / "none.db"), tmp_path / "c.db")


async def test_postgresql_writes_nothing_and_points_to_pg_dump(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://quiz:secret@db.example:5432/quiz"
    with pytest.raises(BackupError, match="pg_dump -Fc") as raised:
        await backup(url, tmp_path / "b.db")
    assert "secret" not in str(raised.value)
    with pytest.raises(BackupError, match="pg_restore --clean"):
        await restore(url, tmp_path / "b.db")
    assert list(tmp_path.iterdir()) == []


def _cli(*argv: str) -> argparse.Namespace:
    """The `db` command as adapters/cli.py parses it, with these commands added."""
    parser = argparse.ArgumentParser(prog="aws-quiz")
    sub = parser.add_subparsers(dest="command", required=True)
    dbsub = sub.add_parser("db").add_subparsers(dest="db_command", required=True)
    dbsub.add_parser("upgrade")
    cli_db.add_parser(dbsub)
    return parser.parse_args(argv)


async def test_the_cli_backs_up_and_restores(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path / "data")
    db = Database(settings.effective_database_url)
    await db.upgrade()
    await QuizStore(db).touch_user("T1", "U1", "Ada")
    await db.dispose()
    path = tmp_path / "nightly.db"
    assert await asyncio.to_thread(cli_db.run, _cli("db", "backup", str(path)), settings) == 0
    assert "backup written" in capsys.readouterr().out
    assert await asyncio.to_thread(cli_db.run, _cli("db", "backup", str(path)), settings) == 2
    assert "exists already" in capsys.readouterr().err
    assert await asyncio.to_thread(cli_db.run, _cli("db", "restore", str(path)), settings) == 0
    out = capsys.readouterr().out
    assert "restored" in out and "before-restore" in out
    pg = Settings(knowledge_dir=KNOWLEDGE, database_url="postgresql+asyncpg://u@h/d")
    assert await asyncio.to_thread(cli_db.run, _cli("db", "backup", str(tmp_path / "x")),
                                   pg) == 2
    assert "pg_dump" in capsys.readouterr().err
