"""Reporting a bad question or answer: learners file, admins list and resolve, authors export."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Action, Choice, Message, Reply
from bot.reports import RESOLVE_ACTION, ReportFeature
from bot.store.database import Database
from bot.store.quizstore import QuizStore
from bot.store.reportstore import Report, ReportStore
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat, shown_question_id


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: float = 1) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def wired(kb: KnowledgeBase, db: Database, clock: Clock) -> tuple[Core, ReportStore]:
    """A core with the reports feature registered as the coordinator wires it in build_core."""
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(11),
                      clock=clock)
    store = ReportStore(db, clock)
    ReportFeature(kb, store, clock=clock).register(core.router)
    return core, store


@pytest.fixture()
def setup(kb: KnowledgeBase, db: Database, clock: Clock) -> tuple[FakeChat, ReportStore]:
    core, store = wired(kb, db, clock)
    return FakeChat(core.router), store


async def shown(db: Database, reply: Reply) -> str:
    showing = await QuizStore(db).get_showing(shown_question_id(reply))
    assert showing is not None
    return showing.question_id


def report_button(reply: Reply, value: str) -> Choice:
    """The "Report a problem" button under a reply; for quiz questions, the one the quiz adds
    (value `question:<id>`), or the same button built by hand until it does."""
    for choice in reply.choices:
        if choice.action_id == "report.start":
            assert choice.value == value
            return choice
    assert value.startswith("question:"), f"a lookup answer must carry the button: {reply}"
    return Choice("report.start", "Report a problem", value)


async def admin_says(chat: FakeChat, text: str, user: str = "boss") -> list[Reply]:
    return await chat.router.handle(Message(chat.context(user, admin=True), text))


async def admin_presses(chat: FakeChat, choice: Choice, user: str = "boss") -> list[Reply]:
    return await chat.router.handle_action(Action(chat.context(user, admin=True),
                                                  choice.action_id, choice.value))


async def open_reports(store: ReportStore) -> list[Report]:
    return await store.export(("open",))


# -- learners -----------------------------------------------------------------------------------

async def test_typed_report_targets_the_latest_question_shown(
        setup: tuple[FakeChat, ReportStore], db: Database, kb: KnowledgeBase,
        clock: Clock) -> None:
    chat, store = setup
    [first] = await chat.push("quiz")
    clock.tick()
    [second] = await chat.push("quiz")
    latest = await shown(db, second)
    assert latest != await shown(db, first)
    clock.tick()
    [reply] = await chat.push("report option *B* is also correct")
    assert reply.private
    assert "Thanks" in reply.text and "Admins will look at it" in reply.text
    assert "option \\*B\\* is also correct" in reply.text, "the learner's words are escaped"
    [report] = await open_reports(store)
    assert (report.kind, report.item_id, report.user_id) == ("question", latest, "alice")
    assert report.text == "option *B* is also correct"
    assert f"`{report.id}`" in reply.text


async def test_button_targets_the_question_it_was_under(
        setup: tuple[FakeChat, ReportStore], db: Database, kb: KnowledgeBase,
        clock: Clock) -> None:
    chat, store = setup
    [first] = await chat.push("quiz")
    first_id = await shown(db, first)
    clock.tick()
    [second] = await chat.push("quiz")  # a newer question is on screen now
    assert await shown(db, second) != first_id
    clock.tick()
    [ask] = await chat.click(report_button(first, f"question:{first_id}"))
    assert ask.private
    prompt_start = kb.questions[first_id].prompt.split()[0]
    assert ask.text.startswith("What's wrong with «") and prompt_start in ask.text
    assert "Type `report <what's wrong>`" in ask.text
    assert await open_reports(store) == [], "pressing the button alone files nothing"
    clock.tick()
    await chat.push("report the explanation contradicts the answer")
    [report] = await open_reports(store)
    assert (report.kind, report.item_id) == ("question", first_id)
    assert report.text == "the explanation contradicts the answer"
    clock.tick()
    await chat.push("report and the second one is unclear")
    newest = (await open_reports(store))[0]
    assert newest.item_id == await shown(db, second), "the draft was used once, then the latest"


async def test_lookup_answer_carries_the_button_and_reports_the_entry(
        setup: tuple[FakeChat, ReportStore], kb: KnowledgeBase) -> None:
    chat, store = setup
    [answer] = await chat.push("what is amazon ebs")
    assert "Elastic Block Store" in answer.text
    button = report_button(answer, "entry:ebs")
    assert button.label == "Report a problem"
    [ask] = await chat.click(button)
    assert "«Amazon Elastic Block Store (Amazon EBS)»" in ask.text
    [thanks] = await chat.push("report the volume size limit is outdated")
    assert "entry «Amazon Elastic Block Store (Amazon EBS)»" in thanks.text
    [report] = await open_reports(store)
    assert (report.kind, report.item_id) == ("entry", "ebs")
    assert report.text == "the volume size limit is outdated"


async def test_named_entry_report_and_the_messages_for_bad_input(
        setup: tuple[FakeChat, ReportStore], kb: KnowledgeBase) -> None:
    chat, store = setup
    [how] = await chat.push("report")
    assert "`report <what's wrong>`" in how.text and "`report <entry name>: <what's wrong>`" in how.text
    [lost] = await chat.push("report this question is wrong")
    assert "Nothing was recorded" in lost.text and "this question is wrong" in lost.text
    assert await open_reports(store) == []
    [thanks] = await chat.push("report Amazon S3: the durability figure has too many nines")
    assert "Thanks" in thanks.text
    [report] = await open_reports(store)
    assert (report.kind, report.item_id) == ("entry", "s3")
    assert report.text == "the durability figure has too many nines"
    long_words = "x" * 1500
    await chat.push(f"report ebs: {long_words}")
    assert max(len(r.text) for r in await open_reports(store)) == 1000


async def test_a_question_shown_over_two_hours_ago_is_no_longer_the_target(
        setup: tuple[FakeChat, ReportStore], clock: Clock) -> None:
    chat, store = setup
    await chat.push("quiz")
    clock.tick(121)
    [reply] = await chat.push("report the answer is wrong")
    assert "none was shown to you in the last 2 hours" in reply.text
    assert await open_reports(store) == []


async def test_eleventh_open_report_of_a_day_is_refused(
        setup: tuple[FakeChat, ReportStore], clock: Clock) -> None:
    chat, store = setup
    for n in range(10):
        [reply] = await chat.push(f"report ebs: problem {n}")
        assert "Thanks" in reply.text
        clock.tick()
    [refused] = await chat.push("report ebs: one too many")
    assert "Nothing was recorded" in refused.text and "10 reports" in refused.text
    assert len(await open_reports(store)) == 10
    [other] = await chat.push("report ebs: someone else's", user="bob")
    assert "Thanks" in other.text, "the limit is per learner"
    clock.tick(24 * 60)
    [later] = await chat.push("report ebs: the next day")
    assert "Thanks" in later.text


# -- admins -------------------------------------------------------------------------------------

async def test_admin_lists_grouped_reports_and_resolves_one_by_button_and_one_by_text(
        setup: tuple[FakeChat, ReportStore], kb: KnowledgeBase, clock: Clock) -> None:
    chat, store = setup
    await chat.push("report ebs: the size limit is old")
    clock.tick()
    await chat.push("report ebs: the *IOPS* figure too", user="bob")
    clock.tick()
    await chat.push("report s3: storage classes are missing", user="carol")
    [listing] = await admin_says(chat, "reports")
    text = listing.text
    assert listing.private and text.startswith("**3 open reports**")
    assert text.index("Amazon S3") < text.index("Amazon Elastic Block Store"), "newest first"
    assert "«Amazon Elastic Block Store (Amazon EBS)» (`ebs`): 2 reports" in text
    assert "bob" in text and "the \\*IOPS\\* figure too" in text, "learners' words escaped"
    assert len(listing.choices) == 3
    reports = await open_reports(store)
    bobs = next(r for r in reports if r.user_id == "bob")
    button = next(c for c in listing.choices if c.value == bobs.id)
    assert button.action_id == RESOLVE_ACTION
    [after] = await admin_presses(chat, button)
    assert after.replace and f"Report `{bobs.id}` resolved" in after.text
    assert "**2 open reports**" in after.text and len(after.choices) == 2
    resolved = await store.get(bobs.id)
    assert resolved is not None and resolved.status == "resolved" and resolved.resolved_by == "boss"
    [again] = await admin_presses(chat, button)
    assert "already resolved by boss" in again.text

    alices = next(r for r in reports if r.user_id == "alice")
    [done] = await admin_says(chat, f"reports resolve {alices.id.upper()} fixed in ebs.yaml")
    assert f"Report `{alices.id}` resolved" in done.text and "fixed in ebs.yaml" in done.text
    stored = await store.get(alices.id)
    assert stored is not None and stored.resolution == "fixed in ebs.yaml"
    [everything] = await admin_says(chat, "reports all")
    assert "**3 reports**" in everything.text and "resolved by boss" in everything.text
    assert len(everything.choices) == 1, "only open reports have a Resolve button"
    [missing] = await admin_says(chat, "reports resolve deadbeef")
    assert "There is no report `deadbeef` here" in missing.text


async def test_a_learner_cannot_list_or_resolve(
        setup: tuple[FakeChat, ReportStore]) -> None:
    chat, store = setup
    await chat.push("report ebs: the gp3 numbers are off")
    [report] = await open_reports(store)
    [refused] = await chat.push("reports", user="bob")
    assert refused.text.startswith("Only admins can list reports")
    assert "gp3" not in refused.text
    [press] = await chat.click(Choice(RESOLVE_ACTION, "Resolve", report.id), user="bob")
    assert "Only admins" in press.text
    [by_text] = await chat.push(f"reports resolve {report.id}", user="bob")
    assert "Only admins" in by_text.text
    assert [r.status for r in await open_reports(store)] == ["open"]


async def test_a_forged_resolve_from_another_tenant_changes_nothing(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    core, store = wired(kb, db, clock)
    ours = FakeChat(core.router, tenant="T1")
    theirs = FakeChat(core.router, tenant="T2")
    await ours.push("report ebs: wrong limit")
    [report] = await open_reports(store)
    [listing] = await admin_says(theirs, "reports")
    assert listing.text.startswith("No open reports"), "another tenant's reports stay hidden"
    [forged] = await admin_presses(theirs, Choice(RESOLVE_ACTION, "Resolve", report.id))
    assert f"There is no report `{report.id}` here" in forged.text
    [forged_text] = await admin_says(theirs, f"reports resolve {report.id}")
    assert "There is no report" in forged_text.text
    still = await store.get(report.id)
    assert still is not None and still.status == "open" and still.resolved_by is None


# -- the daily question -------------------------------------------------------------------------

async def test_reported_question_ids_drop_a_question_once_resolved(
        setup: tuple[FakeChat, ReportStore], db: Database) -> None:
    chat, store = setup
    [question] = await chat.push("quiz")
    qid = await shown(db, question)
    await chat.push("report two options are right")
    await chat.push("report ebs: entries never count")
    assert await store.reported_question_ids() == {qid}
    [report] = [r for r in await open_reports(store) if r.kind == "question"]
    assert await store.resolve(report.id, "console", "T1", "boss", "rewrote option C")
    assert await store.reported_question_ids() == set()


# -- the CLI for content authors ----------------------------------------------------------------

def test_cli_exports_csv_and_json_with_the_item_text_and_source(
        kb: KnowledgeBase, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from adapters.cli_reports import add_parser, run

    settings = Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path)
    question = next(q for q in kb.questions.values() if q.kind == "single")

    async def seed() -> str:
        from bot.app import open_database

        db = await open_database(settings)
        store = ReportStore(db)
        try:
            await store.file("slack", "T1", "U1", "Ann", "question", question.id,
                             'answer "B" is wrong, see docs', daily_limit=10)
            entry_report = await store.file("teams", "T2", "U2", "Ben", "entry", "ebs",
                                            "outdated", daily_limit=10)
            await store.resolve(entry_report.id, "teams", "T2", "admin1", "updated")
            return entry_report.id
        finally:
            await db.dispose()

    resolved_id = asyncio.run(seed())
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))

    assert run(parser.parse_args(["reports", "--format", "csv"]), settings) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 1, "open reports by default"
    [row] = rows
    assert row["item_text"] == question.prompt
    assert row["correct_answer"] == question.options[question.answer[0]].text
    assert row["text"] == 'answer "B" is wrong, see docs' and row["user_name"] == "Ann"
    assert f"knowledge/questions/{question.domain}.yaml:{question.line}" in row["source"]

    assert run(parser.parse_args(["reports", "--status", "all", "--format", "json"]),
               settings) == 0
    exported = json.loads(capsys.readouterr().out)
    assert {r["tenant"] for r in exported} == {"T1", "T2"}, "every tenant"
    entry_row = next(r for r in exported if r["id"] == resolved_id)
    assert entry_row["item_text"] == "Amazon Elastic Block Store (Amazon EBS)"
    assert entry_row["source"].endswith(f"knowledge/storage.yaml:{kb.entries['ebs'].line}")
    assert entry_row["status"] == "resolved" and entry_row["resolution"] == "updated"

    assert run(parser.parse_args(["reports", "--status", "resolved"]), settings) == 0
    text = capsys.readouterr().out
    assert "Amazon Elastic Block Store" in text and "outdated" in text
    assert question.prompt not in text
