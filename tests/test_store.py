"""Store contract: the same guarantees on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, inspect, select

from bot.store.database import Database
from bot.store.quizstore import QuizStore
from bot.store.tables import answers

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_migrations_create_the_schema_and_are_idempotent(db: Database) -> None:
    await db.upgrade()  # a second run changes nothing and does not fail
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"users", "showings", "answers", "cards", "exams", "alembic_version"} <= names
    assert await db.ping()


async def test_an_answer_is_recorded_once_even_when_delivered_concurrently(db: Database) -> None:
    store = QuizStore(db)
    await store.touch_user("T1", "U1", "Alice")
    showing = await store.show("T1", "U1", "q1", "quiz", [2, 0, 1, 3])
    results = await asyncio.gather(*[
        store.record_answer(showing, (0,), True, "Core technologies", {"x": 1}, T0)
        for _ in range(5)])
    assert sorted(results) == [False, False, False, False, True]
    async with db.engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(answers))).scalar()
    assert count == 1
    fresh = await store.get_showing(showing.id)
    assert fresh is not None and fresh.answered_at is not None
    assert fresh.option_order == (2, 0, 1, 3)


async def test_picks_accumulate_until_the_question_is_answered(db: Database) -> None:
    store = QuizStore(db)
    await store.touch_user("T1", "U1", "Alice")
    showing = await store.show("T1", "U1", "q2", "quiz", [0, 1, 2, 3, 4])
    assert await store.pick(showing.id, 3) == (3,)
    assert await store.pick(showing.id, 3) == (3,), "a double click adds nothing"
    assert await store.pick(showing.id, 1) == (1, 3)
    assert await store.record_answer(showing, (1, 3), True, "M", None, None)
    assert await store.pick(showing.id, 0) is None


async def test_cards_upsert_and_keep_the_due_time(db: Database) -> None:
    store = QuizStore(db)
    await store.save_card("T1", "U1", "q1", "M", {"stability": 1.0}, T0)
    await store.save_card("T1", "U1", "q1", "M", {"stability": 2.0}, T0 + timedelta(days=3))
    card = await store.get_card("T1", "U1", "q1")
    assert card is not None and card.card == {"stability": 2.0}
    assert card.due == T0 + timedelta(days=3)
    assert [c.item_id for c in await store.cards("T1", "U1")] == ["q1"]
    assert await store.cards("T2", "U1") == []


async def test_leaderboard_is_per_tenant_and_honours_the_week(db: Database) -> None:
    clock_value = [T0 - timedelta(days=10)]
    store = QuizStore(db, clock=lambda: clock_value[0])
    plan = [("T1", "U1", "Alice", [True, True]), ("T1", "U2", "Bob", [True, False, True]),
            ("T2", "U3", "Eve", [True, True, True])]
    for tenant, user, name, results in plan:
        await store.touch_user(tenant, user, name)
        for correct in results:
            showing = await store.show(tenant, user, "q", "quiz", [0, 1])
            await store.record_answer(showing, (0,), correct, "M", None, None)
    clock_value[0] = T0
    showing = await store.show("T1", "U2", "q", "quiz", [0, 1])
    await store.record_answer(showing, (0,), True, "M", None, None)

    all_time = await store.leaderboard("T1", None)
    assert [(r[1], r[2], r[3]) for r in all_time] == [("Bob", 3, 4), ("Alice", 2, 2)]
    this_week = await store.leaderboard("T1", T0 - timedelta(days=1))
    assert [(r[1], r[2]) for r in this_week] == [("Bob", 1)]


async def test_exam_advances_and_closes_exactly_once(db: Database) -> None:
    store = QuizStore(db)
    exam = await store.start_exam("T1", "U1", "", ["a", "b", "c"], 30, 70)
    assert exam.deadline is not None
    moved = await asyncio.gather(*[store.advance_exam(exam, 0) for _ in range(3)])
    assert sorted(moved) == [False, False, True]
    fresh = await store.get_exam(exam.id)
    assert fresh is not None and fresh.position == 1
    assert (await store.open_exam("T1", "U1")) == fresh
    assert await store.close_exam(fresh, "finished")
    assert not await store.close_exam(fresh, "abandoned")
    assert await store.open_exam("T1", "U1") is None


async def test_display_names_follow_the_latest_contact(db: Database) -> None:
    store = QuizStore(db)
    await store.touch_user("T1", "U1", "al")
    await store.touch_user("T1", "U1", "Alice Smith")
    showing = await store.show("T1", "U1", "q", "quiz", [0, 1])
    await store.record_answer(showing, (0,), True, "M", None, None)
    [(user_id, name, correct, answered)] = await store.leaderboard("T1", None)
    assert (user_id, name, correct, answered) == ("U1", "Alice Smith", 1, 1)
    assert await store.last_question("T1", "U1") == "q"


async def test_a_roleplay_state_is_advanced_once_per_version(db: Database) -> None:
    from bot.store.roleplaystore import RoleplayStore

    store = RoleplayStore(db)
    session = await store.create("T1", "U1", "cost-cfo", "cost", {"turn": "opening"})
    saved = await asyncio.gather(store.save(session, {"turn": "concern"}),
                                 store.save(session, {"turn": "pushback"}))
    assert sorted(saved) == [False, True], "a stale copy of the session cannot overwrite"
    fresh = await store.open_session("T1", "U1")
    assert fresh is not None and fresh.version == 1
    assert fresh.state["turn"] in ("concern", "pushback")
    assert await store.save(fresh, fresh.state, status="finished", score=71)
    assert await store.open_session("T1", "U1") is None
    [done] = await store.finished("T1", "U1")
    assert done.score == 71


async def test_slack_tables_match_slack_sdk_stores(db: Database) -> None:
    """Migration 0003 writes slack-sdk's table layout out by hand; it must stay the same."""
    import sqlalchemy as sa
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    expected = sa.MetaData()
    SQLAlchemyInstallationStore.build_installations_table(expected, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(expected, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(expected, "slack_oauth_states")
    async with db.engine.connect() as conn:
        actual = await conn.run_sync(
            lambda c: {t: {col["name"] for col in inspect(c).get_columns(t)}
                       for t in expected.tables})
    assert actual == {name: {c.name for c in table.columns}
                      for name, table in expected.tables.items()}


async def test_processed_event_ids_are_claimed_once_and_pruned_when_old(db: Database) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import update

    from bot.store.eventstore import EventStore
    from bot.store.tables import processed_events

    events = EventStore(db)
    assert await events.claim("slack:event:Ev1", "slack:msg:D1:1.0")
    assert not await events.claim("slack:event:Ev1")
    assert not await events.claim("slack:event:Ev2", "slack:msg:D1:1.0"), "same message, new id"
    assert await events.claim("slack:event:Ev2"), "a refused claim changed nothing"
    async with db.engine.begin() as conn:
        await conn.execute(update(processed_events)
                           .where(processed_events.c.key == "slack:event:Ev1")
                           .values(seen_at=datetime(2020, 1, 1, tzinfo=UTC)))
    await events.prune()
    assert await events.claim("slack:event:Ev1"), "old ids are forgotten"
    assert not await events.claim("slack:event:Ev2"), "recent ids are kept"
