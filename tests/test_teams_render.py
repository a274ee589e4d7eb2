"""Replies as Teams shows them, and Teams activities as the core reads them."""

from __future__ import annotations

import pytest
from microsoft_agents.activity import Activity

from adapters.teams.inbound import (
    command_text,
    context_of,
    conversation_ref,
    split_conversation_id,
    submit_of,
)
from adapters.teams.render import adaptive_card, message_html, parse_inline, plain, to_activity
from bot.model import Choice, Field, Reply
from bot.text import escape_md
from tests.teams_fakes import CHANNEL, TENANT, channel, personal

SERVICE = "https://smba.trafficmanager.net/emea/"


def test_the_markdown_subset_becomes_teams_html() -> None:
    text = ("**Quiz** · _Storage_ · `ask s3`\n- one [docs](https://docs.aws.amazon.com/x)\n- two\n"
            "end")
    assert message_html(text) == (
        "<b>Quiz</b> · <i>Storage</i> · <code>ask s3</code><ul><li>one "
        '<a href="https://docs.aws.amazon.com/x">docs</a></li><li>two</li></ul>end')


@pytest.mark.parametrize("user_text", [
    "<at>Everyone</at>", "<b>bold</b> & <script>", "**not bold** _not italic_ `no code`",
    "[click](https://evil.example)", "a\\*b",
])
def test_user_text_stays_text_in_messages_and_cards(user_text: str) -> None:
    reply = Reply(f"You said \"{escape_md(user_text)}\".", choices=(Choice("x", "X"),))
    words = plain(parse_inline(reply.text))
    assert words == f"You said \"{user_text}\"."
    html = message_html(reply.text)
    assert "<at>" not in html and "<script>" not in html and "<a " not in html
    assert "<b>" not in html and "<i>" not in html and "<code>" not in html
    card_text = adaptive_card(reply)["body"][0]["text"]
    assert "<" not in card_text and "](" not in card_text.replace("\\](", "")
    if "**" in user_text:
        assert "\\*\\*not bold\\*\\*" in card_text


def test_choices_become_submit_buttons_and_fields_a_fact_set() -> None:
    choices = tuple(Choice("quiz.answer", letter, f"s1:{n}") for n, letter in enumerate("ABCDEFG"))
    reply = Reply("**Question**\nPick one.", choices=choices,
                  fields=(Field("Accuracy", "**80 %**"), Field("Streak", "3 days")))
    card = adaptive_card(reply)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    kinds = [block["type"] for block in card["body"]]
    assert kinds == ["TextBlock", "TextBlock", "FactSet", "ActionSet", "ActionSet"]
    assert all(block.get("wrap") for block in card["body"] if block["type"] == "TextBlock")
    assert card["body"][2]["facts"][0] == {"title": "Accuracy", "value": "**80 %**"}
    buttons = card["body"][3]["actions"] + card["body"][4]["actions"]
    assert [b["type"] for b in buttons] == ["Action.Submit"] * 7
    assert buttons[0]["data"] == {"action_id": "quiz.answer", "value": "s1:0"}
    assert "Action.Execute" not in str(card)


def test_plain_replies_are_html_messages_and_replies_with_buttons_cards() -> None:
    text_only = to_activity(Reply("Hello **you**"))
    assert text_only.text == "Hello <b>you</b>" and text_only.text_format == "xml"
    card = to_activity(Reply("Pick", choices=(Choice("a", "A"),)))
    assert card.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"
    assert card.summary == "Pick"
    assert to_activity(Reply("Done"), updating=True).attachments, "card updates stay cards"


def test_a_channel_message_is_read_with_its_thread_and_without_the_mention() -> None:
    activity = Activity.model_validate(channel(SERVICE, "quiz   storage", thread="1699"))
    assert command_text(activity) == "quiz storage"
    ctx = context_of(activity)
    assert (ctx.platform, ctx.tenant, ctx.channel, ctx.thread, ctx.direct) == \
        ("teams", TENANT, CHANNEL, "1699", False)
    assert (ctx.user, ctx.user_name) == ("aad-bob", "Bob")
    assert command_text(Activity.model_validate(channel(SERVICE, "quiz", mention=False))) is None
    ref = conversation_ref(activity)
    assert ref.channel == CHANNEL and ref.reference["conversation"]["id"] == CHANNEL
    assert "user" not in ref.reference and "activityId" not in ref.reference


def test_personal_text_is_the_whole_command_and_a_submit_is_an_action() -> None:
    mentioned = channel(SERVICE, "stats")
    mentioned["conversation"] = personal(SERVICE)["conversation"]
    assert command_text(Activity.model_validate(mentioned)) == "stats", "a mention is dropped"
    assert command_text(Activity.model_validate(personal(SERVICE, " stats "))) == "stats"
    ctx = context_of(Activity.model_validate(personal(SERVICE, "stats")))
    assert ctx.direct and ctx.channel == "a:personal-29:alice" and ctx.thread is None
    submit = Activity.model_validate(personal(SERVICE, value={"action_id": "quiz.answer",
                                                             "value": "s1:2"}))
    assert submit_of(submit) == ("quiz.answer", "s1:2")
    assert submit_of(Activity.model_validate(personal(SERVICE, value={"foo": 1}))) is None
    assert split_conversation_id("19:x@thread.tacv2;messageid=42") == ("19:x@thread.tacv2", "42")
    assert split_conversation_id("a:personal") == ("a:personal", None)


def test_the_tenant_comes_from_channel_data_when_the_conversation_has_none() -> None:
    raw = channel(SERVICE, "help")
    del raw["conversation"]["tenantId"]
    assert context_of(Activity.model_validate(raw)).tenant == TENANT


def test_only_the_bots_own_mention_addresses_it_in_a_channel() -> None:
    other = channel(SERVICE, "quiz")
    other["entities"][0]["mentioned"] = {"id": "29:someone", "name": "Someone"}
    other["text"] = "<at>Someone</at> quiz"
    assert command_text(Activity.model_validate(other)) is None
    both = channel(SERVICE, "quiz <at>Someone</at>")
    both["entities"].append({"type": "mention", "text": "<at>Someone</at>",
                             "mentioned": {"id": "29:someone", "name": "Someone"}})
    assert command_text(Activity.model_validate(both)) == "quiz <at>Someone</at>"
    hand_made = channel(SERVICE, "topics")
    del hand_made["entities"]
    assert command_text(Activity.model_validate(hand_made)) == "topics", "no entities: <at>Bot</at>"
