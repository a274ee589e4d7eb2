"""`forget me`, an admin's `forget <user>` and `export me`, driven as people would use them."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select, text

from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Action, Context, ConversationRef, Message, Reply
from bot.privacy import CHAT_EXPORT_LIMIT, PrivacyFeature
from bot.store.dailystore import DailyStore
from bot.store.database import Database
from bot.store.privacystore import (
    PrivacyStore,
    slack_installations,
    tenant_unhandled_tables,
    unhandled_tables,
)
from bot.store.quizstore import QuizStore
from bot.store.refstore import RefStore
from bot.store.roleplaystore import RoleplayStore
from bot.store.tables import answer_totals, reports
from bot.store.workstore import WorkStore
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat
from tests.test_backup import answer_one

ALICE = "U0ALICE42"
BOB = "U0BOB77"
TENANT = "T1"


@pytest.fixture()
def core(kb: KnowledgeBase, db: Database) -> Core:
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(3))
    PrivacyFeature(PrivacyStore(db)).register(core.router)
    return core


def ctx(user: str, admin: bool = False, direct: bool = True, platform: str = "console",
        channel: str | None = None) -> Context:
    return Context(platform=platform, tenant=TENANT, user=user, user_name=f"name-{user}",  # type: ignore[arg-type]
                   channel=channel or (f"D{user}" if direct else "C1"), direct=direct,
                   is_admin=admin)


async def say(core: Core, context: Context, line: str) -> list[Reply]:
    return await core.router.handle(Message(context, line))


async def press(core: Core, context: Context, reply: Reply, label: str) -> list[Reply]:
    choice = next(c for c in reply.choices if c.label.startswith(label))
    return await core.router.handle_action(Action(context, choice.action_id, choice.value))


async def answer_quizzes(core: Core, user: str, n: int, tenant: str = TENANT) -> None:
    """Answer `n` quiz questions through the router (the first letters, right or wrong)."""
    chat = FakeChat(core.router, tenant=tenant)
    for _ in range(n):
        await answer_one(chat, user)


async def leave_traces(core: Core, db: Database, kb: KnowledgeBase, user: str) -> None:
    """Everything a learner (who is also an admin, installer and reporter) leaves behind."""
    await answer_quizzes(core, user, 3)
    quiz = QuizStore(db)
    exam = await quiz.start_exam(TENANT, user, "", list(kb.questions)[:3], 30, 70)
    await quiz.close_exam(exam, "abandoned")
    roleplay = RoleplayStore(db)
    session = await roleplay.create(TENANT, user, "sec-1", "security", {"turns": ["hi"]})
    await roleplay.finish(session, {"turns": ["hi", "bye"]}, 64)
    daily = DailyStore(db)
    channel = "C100" if user == ALICE else "C200"  # a channel id never holds a person's id
    sub = await daily.subscribe("console", TENANT, channel, "09:00", "UTC", "daily", 240,
                                user)
    post = await daily.claim_post(sub, "2026-12-01", next(iter(kb.questions)), "m", [0, 1, 2, 3],
                                  timedelta(minutes=2))
    assert post is not None
    await daily.answer(post.id, user, f"name-{user}", 1, True)
    now = datetime.now(UTC)
    await db.execute(reports.insert().values(
        id=f"r-{user}", platform="console", tenant=TENANT, user_id=user, user_name=f"name-{user}",
        kind="question", item_id="q1", text="the answer looks wrong", status="resolved",
        created_at=now, resolved_at=now, resolved_by=user, resolution="fixed"))
    await db.execute(answer_totals.insert().values(tenant=TENANT, user_id=user, module="m",
                                                   answered=10, correct=7, updated_at=now))
    await WorkStore(db).record("slack.command", TENANT, {"user_id": user, "text": "quiz",
                                                         "team_id": TENANT})
    await RefStore(db).save(ConversationRef("teams", TENANT, f"a:{user}-chat",
                                            {"awsQuizUserId": user}))
    await db.execute(text(  # as slack-sdk's installation store writes it
        "INSERT INTO slack_installations (client_id, app_id, team_id, user_id, user_token, "
        "is_enterprise_install, installed_at) VALUES ('c', 'A1', :team, :user, :token, false, "
        ":now)").bindparams(team=TENANT, user=user, token=f"xoxp-{user}",
                            now=now.replace(tzinfo=None)))


async def rows_mentioning(db: Database, needle: str) -> dict[str, int]:
    """Every table of the database, every row, every column as text: where `needle` occurs."""
    found: dict[str, int] = {}
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        for name in names:
            for row in await conn.execute(text(f'SELECT * FROM "{name}"')):
                if any(needle in (json.dumps(v) if isinstance(v, dict | list) else str(v))
                       for v in row):
                    found[name] = found.get(name, 0) + 1
    return found


async def test_forget_me_leaves_no_row_about_the_learner_in_any_table(
        core: Core, db: Database, kb: KnowledgeBase) -> None:
    await leave_traces(core, db, kb, ALICE)
    await leave_traces(core, db, kb, BOB)
    before = await rows_mentioning(db, ALICE)
    assert {"answers", "showings", "cards", "users", "exams", "roleplays", "daily_answers",
            "reports", "work_items", "conversation_refs", "slack_installations",
            "daily_subscriptions", "answer_totals"} <= set(before)
    bob_before = await rows_mentioning(db, BOB)

    [ask] = await say(core, ctx(ALICE), "forget me")
    assert ask.private and "forget you?" in ask.text.lower()
    assert "- answers: 3" in ask.text and "- daily answers: 1" in ask.text
    assert await rows_mentioning(db, ALICE) == before, "asking deletes nothing"

    [done] = await press(core, ctx(ALICE), ask, "Delete my data")
    assert done.replace and done.private
    assert "I have forgotten you" in done.text
    assert "- answers: 3" in done.text and "- role-plays: 1" in done.text
    assert "- reports filed: 1" in done.text and "- unfinished requests: 1" in done.text
    assert await rows_mentioning(db, ALICE) == {}
    assert await rows_mentioning(db, BOB) == bob_before, "nobody else loses anything"
    # What belongs to the workspace stays, without her name: the app stays installed and the
    # channel keeps its daily question.
    async with db.engine.connect() as conn:
        installs = (await conn.execute(select(slack_installations.c.user_id))).all()
        schedules = (await conn.execute(text("SELECT created_by FROM daily_subscriptions"))).all()
    assert sorted(r[0] for r in installs) == ["", BOB]
    assert sorted(r[0] for r in schedules) == ["", BOB]

    [again] = await say(core, ctx(ALICE), "forget me")
    assert "nothing to forget" in again.text


async def test_cancel_and_typed_confirmation(core: Core, db: Database) -> None:
    await answer_quizzes(core, ALICE, 2)
    [ask] = await say(core, ctx(ALICE), "forget me")
    [cancelled] = await press(core, ctx(ALICE), ask, "Cancel")
    assert cancelled.replace and "nothing was deleted" in cancelled.text
    assert len(await QuizStore(db).answers(TENANT, ALICE)) == 2

    [done] = await say(core, ctx(ALICE), "forget me confirm")
    assert "- answers: 2" in done.text
    assert await QuizStore(db).answers(TENANT, ALICE) == []


async def test_a_confirm_button_works_only_for_the_person_who_asked(core: Core,
                                                                   db: Database) -> None:
    await answer_quizzes(core, ALICE, 1)
    await answer_quizzes(core, BOB, 1)
    [ask] = await say(core, ctx(ALICE, direct=False), "forget me")
    [refused] = await press(core, ctx(BOB, direct=False), ask, "Delete my data")
    assert "for someone else" in refused.text
    assert len(await QuizStore(db).answers(TENANT, ALICE)) == 1
    assert len(await QuizStore(db).answers(TENANT, BOB)) == 1


async def test_an_admin_forgets_a_departed_colleague(core: Core, db: Database,
                                                     kb: KnowledgeBase) -> None:
    await leave_traces(core, db, kb, ALICE)
    await answer_quizzes(core, BOB, 1)

    [refused] = await say(core, ctx(BOB), f"forget <@{ALICE}>")
    assert "Only workspace admins" in refused.text

    admin = ctx("U0ADMIN", admin=True)
    [unknown] = await say(core, admin, "forget Nobody Here")
    assert "nobody called" in unknown.text
    [ask] = await say(core, admin, f"forget <@{ALICE}|alice>")
    assert f"Forget `{ALICE}`?" in ask.text and "- answers: 3" in ask.text
    [not_admin] = await press(core, ctx(BOB), ask, "Delete their data")
    assert "Only workspace admins" in not_admin.text
    assert len(await QuizStore(db).answers(TENANT, ALICE)) == 3

    [done] = await press(core, admin, ask, "Delete their data")
    assert f"`{ALICE}` is forgotten" in done.text
    assert await rows_mentioning(db, ALICE) == {}
    assert len(await QuizStore(db).answers(TENANT, BOB)) == 1

    # By display name, typed, as in the console or Teams (no @mention ids there).
    await QuizStore(db).touch_user(TENANT, BOB, "Bob Builder")
    [by_name] = await say(core, admin, "forget @bob builder confirm")
    assert f"`{BOB}` is forgotten" in by_name.text
    assert await rows_mentioning(db, BOB) == {}


async def test_forget_is_per_workspace(core: Core, db: Database) -> None:
    await answer_quizzes(core, ALICE, 1)
    await answer_quizzes(core, ALICE, 1, tenant="T2")
    await say(core, ctx(ALICE), "forget me confirm")
    assert await QuizStore(db).answers(TENANT, ALICE) == []
    assert len(await QuizStore(db).answers("T2", ALICE)) == 1


async def test_export_me_returns_answers_and_progress(core: Core, db: Database,
                                                      kb: KnowledgeBase) -> None:
    await leave_traces(core, db, kb, ALICE)
    await answer_quizzes(core, BOB, 1)
    [reply] = await say(core, ctx(ALICE), "export me")
    assert reply.private
    assert "- answers: 3" in reply.text and "- cards: " in reply.text
    from adapters.console import render

    printed = render(reply)
    document = json.loads(printed[printed.index("{"):printed.rindex("}") + 1])
    assert document["user_id"] == ALICE
    answers = document["data"]["answers"]
    mine = await QuizStore(db).answers(TENANT, ALICE)
    assert [a["question_id"] for a in answers] == [a.question_id for a in mine]
    assert all(a["answered_at"] and "correct" in a for a in answers)
    assert {"cards", "exams", "roleplays", "daily_answers", "reports", "users"} <= set(
        document["data"])
    assert document["data"]["roleplays"][0]["score"] == 64
    assert BOB not in printed
    assert "xoxp-" not in printed, "tokens are never exported"
    assert "work_items" not in document["data"]


async def test_export_in_a_chat_is_cut_to_a_safe_size(core: Core, db: Database) -> None:
    await answer_quizzes(core, ALICE, 12)
    [reply] = await say(core, ctx(ALICE, platform="slack"), "export me")
    assert "- answers: 12" in reply.text
    assert "aws-quiz db export-user" in reply.text
    assert len(reply.text) < CHAT_EXPORT_LIMIT + 600
    assert reply.text.rstrip().endswith("```")


def test_every_table_that_can_hold_a_person_is_known() -> None:
    assert unhandled_tables() == []
    assert tenant_unhandled_tables() == []
    # A table added later with the usual columns is covered without a rule; one that names a
    # person some other way is reported until someone says how to find them.
    future = MetaData()
    covered = Table("badges", future, Column("tenant", String), Column("user_id", String),
                    Column("id", Integer, primary_key=True))
    unknown = Table("comments", future, Column("id", Integer, primary_key=True),
                    Column("written_by", String))
    assert unhandled_tables([covered, unknown]) == ["comments"]


async def test_a_table_without_a_rule_is_still_forgotten(core: Core, db: Database) -> None:
    from bot.store import tables

    badges = Table("zz_badges", tables.metadata, Column("tenant", String(64)),
                   Column("user_id", String(128)), Column("badge", String(50)),
                   Column("id", Integer, primary_key=True))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(badges.create)
            await conn.execute(badges.insert(), [
                {"tenant": TENANT, "user_id": ALICE, "badge": "first answer"},
                {"tenant": TENANT, "user_id": BOB, "badge": "first answer"}])
        [done] = await say(core, ctx(ALICE), "forget me confirm")
        assert "- zz badges: 1" in done.text
        left: Any = await db.rows(select(badges.c.user_id))
        assert [r.user_id for r in left] == [BOB]
    finally:
        tables.metadata.remove(badges)
