"""AWS_QUIZ_RETENTION_DAYS: old answer history pruned with its totals kept; removed workspaces."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import ColumnElement, Table, func, select

from bot.app import Core, build_core
from bot.config import Settings, SettingsError
from bot.knowledge import KnowledgeBase
from bot.store.database import Database
from bot.store.quizstore import QuizStore
from bot.store.retention import archived_totals, archived_totals_by_user, prune, record_removal
from bot.store.roleplaystore import RoleplayStore
from bot.store.tables import answers, exams, roleplays, showings, tenant_removals, users
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat
from tests.slack_fakes import FakeSlack
from tests.test_backup import answer_one
from tests.test_slack import make_core, start


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize(("raw", "days"), [("", 0), ("0", 0), ("30", 30), (" 365 ", 365),
                                           ("3650", 3650)])
def test_retention_setting(raw: str, days: int) -> None:
    assert Settings.from_env({"AWS_QUIZ_RETENTION_DAYS": raw}).retention_days == days


@pytest.mark.parametrize("raw", ["7", "29", "3651", "-1", "a year", "30d"])
def test_retention_setting_refuses_what_it_cannot_use(raw: str) -> None:
    with pytest.raises(SettingsError, match="AWS_QUIZ_RETENTION_DAYS must be 0 .* between 30 "
                                            "and 3650"):
        Settings.from_env({"AWS_QUIZ_RETENTION_DAYS": raw})


async def count(db: Database, table: Table, *where: ColumnElement[bool]) -> int:
    return int((await db.first(select(func.count()).select_from(table).where(*where)))[0])


async def test_prune_folds_old_answers_into_totals_and_keeps_recent_history(
        kb: KnowledgeBase, db: Database) -> None:
    clock = Clock()
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(9),
                      clock=clock)
    chat = FakeChat(core.router)
    store = QuizStore(db, clock)
    for _ in range(6):
        await answer_one(chat, "ada")
    await answer_one(chat, "bo")
    old_exam = await store.start_exam("T1", "ada", "", list(kb.questions)[:2], None, 70)
    await store.close_exam(old_exam, "finished")
    open_exam = await store.start_exam("T1", "bo", "", list(kb.questions)[:2], None, 70)
    await store.show("T1", "bo", list(kb.questions)[0], "exam", [0, 1, 2, 3],
                     exam_id=open_exam.id)
    rp = RoleplayStore(db, clock)
    done = await rp.create("T1", "ada", "s1", "cost", {})
    await rp.finish(done, {}, 70)
    await rp.create("T1", "cy", "s2", "security", {})  # still open: kept
    before = await store.answer_summary("T1", "ada")

    clock.now += timedelta(days=40)
    for _ in range(2):
        await answer_one(chat, "ada")
    settings = Settings(knowledge_dir=KNOWLEDGE, retention_days=30)

    pruned = await prune(db, settings, clock.now)
    assert pruned["answers"] == 7
    assert pruned["exams"] == 1 and pruned["roleplays"] == 1 and pruned["showings"] >= 7
    assert len(await store.answers("T1", "ada")) == 2, "the last 30 days stay as they were"
    archived = await archived_totals(db, "T1", "ada")
    assert {m: ca for m, ca in archived.items()} == before.per_module
    by_user = await archived_totals_by_user(db, "T1")
    assert by_user["ada"] == (before.correct, before.total) and by_user["bo"][1] == 1
    assert await count(db, exams, exams.c.id == open_exam.id) == 1
    assert await count(db, showings, showings.c.exam_id == open_exam.id) == 1, \
        "an open exam keeps its questions"
    assert await count(db, roleplays, roleplays.c.status == "open") == 1
    assert len(await store.cards("T1", "ada")) > 0, "review cards are progress, not history"

    again = await prune(db, settings, clock.now)
    assert "answers" not in again, "nothing is counted twice"
    assert await archived_totals(db, "T1", "ada") == archived

    # Lifetime totals = archived + what answers still hold.
    now_summary = await store.answer_summary("T1", "ada")
    assert sum(n for _, n in archived.values()) + now_summary.total == before.total + 2


async def test_retention_zero_keeps_all_history(kb: KnowledgeBase, db: Database) -> None:
    clock = Clock()
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(9),
                      clock=clock)
    await answer_one(FakeChat(core.router), "ada")
    clock.now += timedelta(days=4000)
    assert await prune(db, Settings(knowledge_dir=KNOWLEDGE), clock.now) == {}
    assert await count(db, answers) == 1


async def test_a_removed_workspace_is_deleted_after_the_grace_period(
        kb: KnowledgeBase, db: Database) -> None:
    clock = Clock()
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(9),
                      clock=clock)
    await answer_one(FakeChat(core.router, tenant="TGONE"), "ada")
    await answer_one(FakeChat(core.router, tenant="TSTAYS"), "ada")
    settings = Settings(knowledge_dir=KNOWLEDGE)  # retention 0: removed workspaces keep 30 days
    clock.now += timedelta(hours=1)
    await record_removal(db, "slack", "TGONE", clock.now)
    await record_removal(db, "slack", "TGONE", clock.now + timedelta(hours=1))  # tokens_revoked

    assert await prune(db, settings, clock.now + timedelta(days=29)) == {}
    assert await count(db, answers, answers.c.tenant == "TGONE") == 1
    result = await prune(db, settings, clock.now + timedelta(days=30, minutes=1))
    assert result["workspaces_deleted"] == 1 and result["workspace_answers"] == 1
    for table in (answers, showings, users):
        assert await count(db, table, table.c.tenant == "TGONE") == 0
        assert await count(db, table, table.c.tenant == "TSTAYS") >= 1
    row = await db.first(select(tenant_removals))
    assert row.purged_at is not None
    assert await prune(db, settings, clock.now + timedelta(days=60)) == {}


async def test_using_the_app_again_cancels_the_removal(kb: KnowledgeBase, db: Database) -> None:
    clock = Clock()
    core: Core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(9),
                            clock=clock)
    chat = FakeChat(core.router, tenant="TBACK")
    await answer_one(chat, "ada")
    clock.now += timedelta(hours=1)
    await record_removal(db, "slack", "TBACK", clock.now)
    clock.now += timedelta(days=3)
    await answer_one(chat, "ada")  # reinstalled, and in use again
    settings = Settings(knowledge_dir=KNOWLEDGE)
    assert await prune(db, settings, clock.now + timedelta(days=40)) == {
        "removals_cancelled": 1}
    assert await count(db, answers, answers.c.tenant == "TBACK") == 2
    assert await count(db, tenant_removals) == 0


async def test_slack_uninstall_records_the_removal(kb: KnowledgeBase, db: Database) -> None:
    fake = await FakeSlack(admins={"UADMIN"}).start()
    h = await start(make_core(kb, db), fake)
    try:
        await h.command("quiz", team="T1")
        assert await h.event({"type": "app_uninstalled"}, "EvUninstall1") == 200
        for _ in range(100):
            if await count(db, tenant_removals) == 1:
                break
            await asyncio.sleep(0.02)
        row = await db.first(select(tenant_removals))
        assert (row.platform, row.tenant, row.purged_at) == ("slack", "T1", None)
    finally:
        await h.close()
        await fake.close()
    later = datetime.now(UTC) + timedelta(days=31)
    result = await prune(db, Settings(knowledge_dir=KNOWLEDGE), later)
    assert result["workspaces_deleted"] == 1
    assert await count(db, showings, showings.c.tenant == "T1") == 0


async def test_stats_keep_lifetime_totals_after_pruning(kb: KnowledgeBase, db: Database) -> None:
    clock = Clock()
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(3),
                      clock=clock)
    chat = FakeChat(core.router)
    for _ in range(4):
        await answer_one(chat, "ada")
    [before] = await chat.push("stats", user="ada")
    answered_line = next(line for line in before.text.splitlines() if line.startswith("Answered"))
    assert "**4**" in answered_line

    clock.now += timedelta(days=40)
    pruned = await prune(db, Settings(knowledge_dir=KNOWLEDGE, retention_days=30), clock.now)
    assert pruned["answers"] == 4
    [after] = await chat.push("stats", user="ada")
    assert answered_line in after.text, "pruned history still counts in the lifetime totals"
    assert [f.value.split("·")[0] for f in after.fields] == \
        [f.value.split("·")[0] for f in before.fields], "per-module accuracy is unchanged"
