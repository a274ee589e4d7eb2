"""Block Kit rendering keeps within Slack's limits and keeps user text inert."""

from __future__ import annotations

from adapters.slack.render import blocks, plain, to_mrkdwn
from bot.model import Choice, Field, Reply
from bot.text import escape_md


def test_markdown_subset_becomes_mrkdwn_and_links_survive() -> None:
    text = ("**Amazon S3**\n- durable\n_Core technologies › Amazon S3_\n"
            "[docs](https://docs.aws.amazon.com/s3/)")
    out = blocks(Reply(text))
    assert out[0]["text"]["text"] == "*Amazon S3*\n• durable"
    assert out[1]["type"] == "context", "an italic meta line is a context block"
    assert out[2]["text"]["text"] == "<https://docs.aws.amazon.com/s3/|docs>"


def test_user_text_cannot_mention_link_or_format() -> None:
    user = escape_md("<!here> [click](https://evil.example) **loud**")
    rendered = to_mrkdwn(f"No confident match for \"{user}\"")
    assert "<!here>" not in rendered and "&lt;!here&gt;" in rendered
    assert "<https://evil.example|click>" not in rendered
    assert "**loud**" in rendered, "user asterisks stay literal; only our own bold is converted"


def test_limits_buttons_fields_and_block_count() -> None:
    long_text = "\n".join(f"- line {i} " + "x" * 200 for i in range(2000))
    reply = Reply(long_text, choices=tuple(Choice("quiz.answer", "L" * 100, "v") for _ in range(30)),
                  fields=tuple(Field(f"f{i}", "v") for i in range(12)))
    out = blocks(reply)
    assert len(out) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in out if b.get("type") == "section" and "text" in b)
    actions = [b for b in out if b["type"] == "actions"]
    assert len(actions) == 1 and len(actions[0]["elements"]) == 25
    assert len({e["action_id"] for e in actions[0]["elements"]}) == 25, "unique action ids"
    assert all(len(e["text"]["text"]) <= 75 for e in actions[0]["elements"])
    assert len(plain(long_text)) <= 3000
