"""Team readiness: `team` for admins (own row for others), the App Home summary, the export."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
import re

import pytest

from adapters import cli_team
from bot.app import Core, build_core
from bot.config import Settings
from bot.home import dashboard
from bot.knowledge import KnowledgeBase
from bot.model import Message, Reply
from bot.quiz.readiness import ReadinessFeature
from bot.store.database import Database
from bot.store.teamstore import TeamStore
from bot.team import EXPORT_FIELDS, TeamFeature
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat
from tests.test_readiness import Clock, answer

BOB = "bob_*b*"  # markdown in a name must come out inert
ROW = re.compile(
    r"^- \*\*(?P<name>.+?)\*\* \((?:last active (?P<active>\d\d \w{3})|no activity yet)\): "
    r"(?P<answers_30d>\d+) answers in 30 days(?:, (?P<accuracy_30d>\d+) % right)? · "
    r"readiness \*\*(?P<readiness>\d+) %\*\* \((?P<readiness_low>\d+)–(?P<readiness_high>\d+) "
    r"%\): \*\*(?P<verdict>[^*]+)\*\* · exams passed (?P<exams_passed>\d+) of "
    r"(?P<exams_taken>\d+) · role-play (?:(?P<roleplays>\d+)× \(best (?P<roleplay_best>\d+), "
    r"avg (?P<roleplay_average>\d+)\)|–) · weakest: (?P<weakest>.+)$", re.M)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def core(kb: KnowledgeBase, db: Database, clock: Clock) -> Core:
    core = build_core(Settings(knowledge_dir=KNOWLEDGE), kb, db=db, rng=random.Random(5),
                      clock=clock)
    readiness = ReadinessFeature(kb, TeamStore(db), clock, pass_mark=70)
    readiness.register(core.router)
    TeamFeature(readiness).register(core.router)
    return core


@pytest.fixture()
def chat(core: Core) -> FakeChat:
    return FakeChat(core.router)


async def as_admin(chat: FakeChat, text: str, user: str = "carol") -> list[Reply]:
    return await chat.router.handle(Message(chat.context(user, admin=True), text))


async def two_learners_answer(chat: FakeChat, db: Database, kb: KnowledgeBase) -> None:
    for right in (True, True, False, True, False, True):
        [question] = await chat.push("quiz storage", user="alice")
        await answer(chat, db, kb, question, right, user="alice")
    await chat.push("roleplay scalability", user="alice")
    await chat.push("I understand. What does your peak traffic look like today?", user="alice")
    await chat.push("end", user="alice")
    for _ in range(3):
        [question] = await chat.push("quiz cloud fundamentals", user=BOB)
        await answer(chat, db, kb, question, True, user=BOB)


def export(database_url: str, clock: Clock, fmt: str, capsys: pytest.CaptureFixture[str],
           tenant: str = "T1") -> tuple[int, str]:
    args = argparse.Namespace(command="report", report_command="team", tenant=tenant,
                              format=fmt)
    settings = Settings(knowledge_dir=KNOWLEDGE, database_url=database_url)
    code = cli_team.run(args, settings, clock)
    return code, capsys.readouterr().out


async def test_admin_team_shows_both_learners_and_the_export_has_the_same_numbers(
        chat: FakeChat, db: Database, kb: KnowledgeBase, clock: Clock, database_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    await two_learners_answer(chat, db, kb)
    [reply] = await as_admin(chat, "team")
    assert reply.private
    assert reply.text.startswith("**Team readiness**: 2 learners (2 active in the last 30 "
                                 "days): **0 ready**, 0 not yet, 2 not enough evidence")
    assert "Team's weakest sections: " in reply.text and "Core technologies › " in reply.text
    rows = {m["name"]: m.groupdict() for m in ROW.finditer(reply.text)}
    assert set(rows) == {"alice", "bob\\_\\*b\\*"}, reply.text
    alice, bob = rows["alice"], rows["bob\\_\\*b\\*"]
    assert (alice["answers_30d"], alice["accuracy_30d"]) == ("6", "67")
    assert (bob["answers_30d"], bob["accuracy_30d"]) == ("3", "100")
    assert alice["verdict"] == bob["verdict"] == "not enough evidence"
    assert alice["roleplays"] == "1" and bob["roleplays"] is None
    assert alice["weakest"] and bob["weakest"]
    assert int(alice["readiness_low"]) <= int(alice["readiness"]) <= int(alice["readiness_high"])

    code, out = await asyncio.to_thread(export, database_url, clock, "csv", capsys)
    assert code == 0
    assert out.splitlines()[0] == ",".join(EXPORT_FIELDS)
    exported = {r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    assert set(exported) == {"alice", BOB}
    for name, shown in (("alice", alice), (BOB, bob)):
        row = exported[name]
        for key in ("answers_30d", "accuracy_30d", "readiness", "readiness_low",
                    "readiness_high", "verdict", "exams_passed", "exams_taken",
                    "roleplay_best", "roleplay_average"):
            assert row[key] == (shown[key] or ""), (name, key)
        assert row["roleplays"] == (shown["roleplays"] or "0")
        assert shown["weakest"] == ", ".join(row["weakest_sections"].split("; "))
        assert row["last_active"] == "2026-11-20" and shown["active"] == "20 Nov"

    code, out = await asyncio.to_thread(export, database_url, clock, "json", capsys)
    as_json = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and set(as_json) == {"alice", BOB}
    assert as_json["alice"]["readiness"] == int(alice["readiness"])
    assert as_json["alice"]["answers_30d"] == 6 and as_json["alice"]["roleplays"] == 1
    assert as_json[BOB]["weakest_sections"] == exported[BOB]["weakest_sections"].split("; ")


async def test_a_learner_sees_only_their_own_row(chat: FakeChat, db: Database,
                                                 kb: KnowledgeBase) -> None:
    await two_learners_answer(chat, db, kb)
    [reply] = await chat.push("team", user=BOB)
    assert "Team readiness is for workspace admins; this is your own row" in reply.text
    rows = [m["name"] for m in ROW.finditer(reply.text)]
    assert rows == ["bob\\_\\*b\\*"] and "alice" not in reply.text
    assert "Team's weakest" not in reply.text

    [fresh] = await chat.push("team", user="dave")  # never used the quiz
    [row] = ROW.finditer(fresh.text)
    assert row["name"] == "dave" and row["answers_30d"] == "0" and row["active"] is None


async def test_admin_app_home_shows_the_team_summary(core: Core, chat: FakeChat, db: Database,
                                                     kb: KnowledgeBase) -> None:
    await two_learners_answer(chat, db, kb)
    admin_home = await dashboard(core.router, chat.context("carol", admin=True))
    summary = next(r for r in admin_home if r.text.startswith("**Team readiness**"))
    assert "2 learners" in summary.text and "Team's weakest sections" in summary.text
    assert [c.value for c in summary.choices] == ["team"]
    learner_home = await dashboard(core.router, chat.context("alice"))
    assert not any("Team readiness" in r.text for r in learner_home)
    assert any(r.text.startswith("**Readiness for the accreditation**") for r in learner_home)


async def test_export_of_an_unknown_tenant_says_so(db: Database, clock: Clock, database_url: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def run() -> tuple[int, str, str]:
        args = argparse.Namespace(tenant="T-typo", format="csv")
        code = cli_team.run(args, Settings(knowledge_dir=KNOWLEDGE, database_url=database_url),
                            clock)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    code, out, err = await asyncio.to_thread(run)
    assert code == 1 and out.splitlines() == [",".join(EXPORT_FIELDS)]
    assert "no learners in tenant 'T-typo'" in err


def test_report_team_parser() -> None:
    parser = argparse.ArgumentParser(prog="aws-quiz")
    cli_team.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", "team", "--tenant", "T1", "--format", "json"])
    assert (args.command, args.report_command, args.tenant, args.format) == \
        ("report", "team", "T1", "json")
    with pytest.raises(SystemExit):
        parser.parse_args(["report", "team", "--tenant", "T1", "--format", "xlsx"])
