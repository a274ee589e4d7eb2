"""Live content reload: a broken knowledge set is refused with file and line and the old one keeps
answering; a good one changes answers without a restart (`aws-quiz knowledge reload` against a
running server, SIGHUP, or in process), and progress on removed or changed questions is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import func, select

from adapters.cli_knowledge import add_parser, run
from bot.app import build_core
from bot.config import Settings
from bot.knowledge.checked import load_valid
from bot.reload import knowledge_version, mark_loaded, reload_knowledge
from bot.store.database import Database
from bot.store.tables import answers, cards
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeChat
from tests.slack_fakes import FakeSlack, sign, slash_body
from tests.test_quiz import answer_buttons, answer_choice, question_of
from tests.test_shutdown import SECRET, Replica, replicas, wait_ready


@pytest.fixture()
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.close()


def break_yaml(folder: Path) -> str:
    """An unclosed bracket on line 3 of storage.yaml; returns the good text."""
    path = folder / "storage.yaml"
    good = path.read_text()
    lines = good.splitlines(keepends=True)
    assert lines[2].startswith("    title: ")
    lines[2] = lines[2].replace("title: ", "title: [", 1)
    path.write_text("".join(lines))
    return good


def copy_knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    return folder


def add_entry(folder: Path, entry_id: str, title: str) -> None:
    with (folder / "storage.yaml").open("a") as file:
        file.write(f"  - id: {entry_id}\n    title: {title}\n    aliases: [{title.lower()}]\n"
                   f"    jobs: [test a reload, check a swap]\n"
                   f"    summary: >-\n      {title} is a made-up service that tests reloads.\n"
                   f"    details: [It exists only in this test.]\n    related: [s3]\n"
                   f"    domain: storage\n    section: Storage services\n")


def edit_questions(folder: Path, domain: str, edit: object) -> None:
    path = folder / "questions" / f"{domain}.yaml"
    data = yaml.safe_load(path.read_text())
    data["questions"] = edit(data["questions"])  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200))


def reload_args(url: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="knowledge_command"))
    return parser.parse_args(["reload", "--url", url])


# -- in process: the swap and what happens to progress -------------------------------------------

async def test_a_reload_swaps_content_in_place_and_keeps_progress(db: Database,
                                                                  tmp_path: Path) -> None:
    folder = copy_knowledge(tmp_path)
    settings = Settings(knowledge_dir=folder, data_dir=tmp_path)
    version = knowledge_version(folder)
    core = build_core(settings, load_valid(folder), db=db, rng=random.Random(5))
    mark_loaded(core, version)  # as `serve` does
    chat = FakeChat(core.router)

    # alice answers one question, and has another one on screen, unanswered
    [answered] = await chat.push("quiz storage")
    kept = await question_of(db, answered)
    await chat.click(await answer_choice(db, core.kb, answered, correct=True))
    [open_question] = await chat.push("quiz storage")
    while (removed := await question_of(db, open_question)) == kept:
        [open_question] = await chat.push("quiz storage")
    stats_before = (await chat.push("stats"))[0].text

    # a broken file: refused with its file and line; nothing changes
    router, good_storage = core.router, break_yaml(folder)
    refused = await reload_knowledge(core, settings)
    assert refused.status == "refused" and not refused.ok
    assert any(re.search(r"/storage\.yaml:\d+: .*invalid YAML", error)
               for error in refused.errors), refused.errors
    assert core.router is router, "the last good set stays in service"
    (folder / "storage.yaml").write_text(good_storage)

    # a good one: a new entry, the open question removed, the answered one reworded
    add_entry(folder, "zorblax-gateway", "Zorblax Gateway")
    domain = core.kb.questions[kept].domain

    def rework(questions: list[dict[str, object]]) -> list[dict[str, object]]:
        for question in questions:
            if question["id"] == kept:
                question["prompt"] = f"Reworded: {question['prompt']}"
        return [q for q in questions if q["id"] != removed]

    edit_questions(folder, domain, rework)
    if core.kb.questions[removed].domain != domain:
        edit_questions(folder, core.kb.questions[removed].domain,
                       lambda qs: [q for q in qs if q["id"] != removed])
    result = await reload_knowledge(core, settings)
    assert result.status == "reloaded", result.errors
    assert result.removed == (removed,) and result.changed == (kept,) and not result.added
    assert result.version == knowledge_version(folder).digest
    assert result.previous == version.digest != result.version
    assert removed not in core.kb.questions and "zorblax-gateway" in core.kb.entries

    chat.router = core.router  # what an adapter reads on the next request
    [found] = await chat.push("what is zorblax gateway")
    assert found.text.startswith("**Zorblax Gateway**")
    [stale] = await chat.click(answer_buttons(open_question)[0])
    assert "no longer in the question bank" in stale.text
    assert (await chat.push("stats"))[0].text == stats_before, "the reworded question kept " \
                                                              "its progress"
    async with db.engine.connect() as conn:
        kept_cards = (await conn.execute(select(func.count()).select_from(cards)
                                         .where(cards.c.item_id == kept))).scalar_one()
        kept_answers = (await conn.execute(select(func.count()).select_from(answers)
                                           .where(answers.c.question_id == kept))).scalar_one()
    assert kept_cards == 1 and kept_answers == 1

    again = await reload_knowledge(core, settings)
    assert again.status == "unchanged" and again.version == result.version


# -- a running server: `aws-quiz knowledge reload`, SIGHUP, who may ask --------------------------

async def lookup(url: str, fake: FakeSlack, text: str, n: int) -> str:
    body = slash_body(text, response_url=fake.response_url(n))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
            assert response.status == 200
    await fake.wait_for(lambda: any(int(k) == n for k, _ in fake.responses), timeout=30)
    return next(str(answer["text"]) for k, answer in fake.responses if int(k) == n)


async def test_a_running_server_reloads_on_request_and_refuses_a_broken_set(
        fake: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_knowledge(tmp_path)
    replica = Replica(fake, tmp_path, "reload", AWS_QUIZ_KNOWLEDGE=str(folder),
                      AWS_QUIZ_ADMIN_TOKEN="admin-token-123456")
    with replicas(replica):
        await wait_ready(replica.url, replica.proc)
        assert "Zorblax" not in await lookup(replica.url, fake, "what is zorblax gateway", 1)

        good_storage = break_yaml(folder)
        code = await asyncio.to_thread(run, reload_args(replica.url), Settings())
        err = capsys.readouterr().err
        assert code == 1
        assert re.search(r"^error: .*/storage\.yaml:\d+: .*invalid YAML", err, re.M), err
        assert "still serves version" in err
        assert "Elastic Block Store" in await lookup(replica.url, fake, "what is amazon ebs", 2), \
            "the server keeps answering with the previous content"

        (folder / "storage.yaml").write_text(good_storage)
        add_entry(folder, "zorblax-gateway", "Zorblax Gateway")
        code = await asyncio.to_thread(run, reload_args(replica.url), Settings())
        out = capsys.readouterr().out
        assert code == 0 and "knowledge reloaded: version" in out, out
        assert "Zorblax Gateway" in await lookup(replica.url, fake, "what is zorblax gateway", 3)

        add_entry(folder, "quuxly-cache", "Quuxly Cache")
        replica.proc.send_signal(signal.SIGHUP)
        for n in range(4, 40):
            if "Quuxly Cache" in await lookup(replica.url, fake, "what is quuxly cache", n):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("SIGHUP did not reload")

        async with aiohttp.ClientSession() as session:
            for headers in ({"X-Forwarded-For": "203.0.113.9"},
                            {"Authorization": "Bearer wrong-token"}):
                async with session.post(f"{replica.url}/-/reload", headers=headers) as answer:
                    assert answer.status == 403, headers
            async with session.post(f"{replica.url}/-/reload", headers={
                    "X-Forwarded-For": "203.0.113.9",
                    "Authorization": "Bearer admin-token-123456"}) as answer:
                assert answer.status == 200 and (await answer.json())["status"] == "unchanged"
    logs = replica.logs()
    assert "knowledge reload refused" in logs and "knowledge reloaded: version" in logs
    assert "SIGHUP: reloading" in logs and "Traceback" not in logs
    assert "admin-token-123456" not in logs


def test_reload_without_a_running_server_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_serve import free_port

    code = run(reload_args(f"http://127.0.0.1:{free_port()}"), Settings())
    assert code == 2
    assert "is `aws-quiz serve` running?" in capsys.readouterr().err
