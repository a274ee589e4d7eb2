"""The router answers help, topics and lookups, and never echoes user markup live."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Action, Context, Message
from bot.store.database import Database
from tests.conftest import KNOWLEDGE

CTX = Context(platform="console", tenant="local", user="alice", channel="c", direct=True)


@pytest.fixture()
def full(kb: KnowledgeBase, db: Database, tmp_path: Path) -> Core:
    """A core with every feature (quiz, stats, leaderboard...) on a real database."""
    return build_core(Settings(knowledge_dir=KNOWLEDGE, data_dir=tmp_path), kb, db=db)


async def ask(core: Core, text: str) -> str:
    replies = await core.router.handle(Message(CTX, text))
    return "\n".join(r.text for r in replies)


async def test_help_lists_the_grammar(core: Core) -> None:
    text = await ask(core, "help")
    for usage in ("help", "ask <question>", "topics"):
        assert f"`{usage}`" in text


async def test_topics_lists_every_domain_with_counts(core: Core) -> None:
    text = await ask(core, "topics")
    for domain in core.kb.domains:
        n = sum(1 for e in core.kb.entries.values() if e.domain == domain.id)
        q = sum(1 for e in core.kb.questions.values() if e.domain == domain.id)
        assert f"- {domain.title} (`{domain.id}`): {n} · {q}" in text


async def test_topics_sit_under_the_module_holding_most_of_their_questions(full: Core) -> None:
    core = full
    kb = core.kb
    [reply] = await core.router.handle(Message(CTX, "topics"))
    modules = list(dict.fromkeys(s.module for s in kb.sections))
    assert len(modules) == 6
    headings = [line for line in reply.text.splitlines() if line in {f"**{m}**" for m in modules}]
    assert headings == [f"**{m}**" for m in modules], "every module, in course order"
    under: dict[str, str] = {}
    module = ""
    for line in reply.text.splitlines()[1:]:
        if line.startswith("**"):
            module = line.strip("*")
        elif "(`" in line:
            under[line.split("(`")[1].split("`")[0]] = module
    assert set(under) == {d.id for d in kb.domains}, "each of the 13 topics exactly once"
    for domain_id, home in under.items():
        counts = Counter(kb.module_of(q.section) for q in kb.questions.values()
                         if q.domain == domain_id)
        assert counts[home] == max(counts.values()), (domain_id, home, counts)
    assert under["storage"] == "Core technologies"
    assert under["customer-engagement"] == "Presenting solutions"
    assert under["partner-network"] == "Partner network"
    labels = [c.label for c in reply.choices]
    assert "Quiz: Storage" in labels and all(c.action_id == "quiz.start" for c in reply.choices)


async def test_mistyped_command_words_get_a_button_that_runs_the_corrected_line(
        full: Core) -> None:
    core = full
    for typed, meant in (("leaderbord", "leaderboard"), ("quz", "quiz"), ("topcis", "topics"),
                         ("stast", "stats"), ("reveiw", "review"), ("quz storage", "quiz storage")):
        [reply] = await core.router.handle(Message(CTX, typed))
        word = meant.split()[0]
        assert reply.text.startswith(f"Did you mean `{word}`?"), (typed, reply.text)
        run = reply.choices[0]
        assert (run.action_id, run.value) == ("run", meant)
        assert reply.choices[-1].value == f"ask {typed}", "looking it up stays one click away"
    [reply] = await core.router.handle(Message(CTX, "topcis"))
    [ran] = await core.router.handle_action(Action(CTX, "run", reply.choices[0].value))
    assert ran.text.startswith("**Course topics** by module")
    [started] = await core.router.handle_action(Action(CTX, "run", "quiz storage"))
    assert "Storage" in started.text or "Core technologies" in started.text


async def test_a_confident_lookup_wins_over_a_near_command_word(full: Core) -> None:
    core = full
    assert core.router.did_you_mean("eks") == [], "too far from `ask`/`exam` to be a typo"
    assert (await ask(core, "eks")).startswith("**Amazon Elastic Kubernetes Service")
    assert (await ask(core, "sqs")).startswith("**Amazon Simple Queue Service")
    text = await ask(core, "how do I quz myself on storage every morning please")
    assert "Did you mean" not in text.split("\n")[0], "a long line is a question"
    assert core.router.did_you_mean("aws") == [], "`aws` is a word, not a typo of `ask`"


async def test_habits_from_a_shell_get_a_hint_not_a_lookup(core: Core) -> None:
    for word in ("clear", "cls", "CLEAR"):
        text = await ask(core, word)
        assert text.startswith("Nothing to clear here") and "`help`" in text
    for word in ("exit", "quit"):
        text = await ask(core, word)
        assert "Nothing to quit here" in text and "No confident match" not in text


async def test_bare_text_and_ask_give_the_same_entry(core: Core) -> None:
    bare = await ask(core, "what is amazon ebs")
    explicit = await ask(core, "ask amazon ebs")
    assert bare == explicit
    assert bare.startswith("**Amazon Elastic Block Store")


async def test_former_name_gets_a_note_and_the_current_name(core: Core) -> None:
    text = await ask(core, "ElasticCache")
    assert text.startswith("**Amazon ElastiCache")
    assert "old or misspelt name" in text


async def test_junk_gets_no_confident_match_and_suggestions_only(core: Core) -> None:
    replies = await core.router.handle(Message(CTX, "pizza recipe"))
    assert replies[0].text.startswith('No confident match for "pizza recipe"')


async def test_user_markup_is_escaped_in_echoes(core: Core) -> None:
    replies = await core.router.handle(Message(CTX, "**<!channel>** [x](http://evil)"))
    text = replies[0].text
    assert "\\*\\*<!channel>\\*\\*" in text
    assert "\\[x\\](http://evil)" in text


async def test_related_buttons_open_entries(core: Core) -> None:
    [reply] = await core.router.handle(Message(CTX, "what is amazon s3"))
    assert reply.choices, "an entry offers its related entries as buttons"
    choice = reply.choices[0]
    [opened] = await core.router.handle_action(Action(CTX, choice.action_id, choice.value))
    assert opened.text.startswith(f"**{core.kb.entries[choice.value].title}**")


async def test_stale_button_is_refused_politely(core: Core) -> None:
    [reply] = await core.router.handle_action(Action(CTX, "no.such.action", "x"))
    assert reply.private and "no longer" in reply.text
