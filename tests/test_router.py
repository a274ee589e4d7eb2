"""The router answers help, topics and lookups, and never echoes user markup live."""

from __future__ import annotations

from bot.app import Core
from bot.model import Action, Context, Message

CTX = Context(platform="console", tenant="local", user="alice", channel="c", direct=True)


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
        assert f"**{domain.title}** (`{domain.id}`): {n} · " in text


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
