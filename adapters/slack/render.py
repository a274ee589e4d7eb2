"""Render core replies as Slack Block Kit, with every character of text made inert first."""

from __future__ import annotations

import re
from typing import Any

from bot.model import Reply

SECTION_LIMIT = 3000
LABEL_LIMIT = 75
MAX_BUTTONS = 25
MAX_TEXT_BLOCKS = 49
LINK_RE = re.compile(r"(?<!\\)\[([^\]\n]+?)(?<!\\)\]\((https?://[^)\s]+)\)")


def escape(text: str) -> str:
    """Slack's three control characters: makes <!channel>, <@U123> and <url|x> inert."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(text: str) -> str:
    """Our markdown subset -> Slack mrkdwn. Everything is escaped before links are rebuilt."""
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        links.append(f"<{match.group(2)}|{escape(match.group(1))}>")
        return f"\x00{len(links) - 1}\x00"

    text = LINK_RE.sub(keep_link, text)
    text = escape(text)
    text = re.sub(r"(?<!\\)\*\*(.+?)(?<!\\)\*\*", r"*\1*", text)
    text = re.sub(r"^- ", "• ", text, flags=re.M)
    text = re.sub(r"\\([*_`\[\]])", r"\1", text)
    return re.sub("\x00(\\d+)\x00", lambda m: links[int(m.group(1))], text)


def plain(text: str) -> str:
    """Fallback notification text (no markup at all)."""
    text = LINK_RE.sub(r"\1", text)
    text = re.sub(r"(?<!\\)\*\*|(?<!\\)`", "", text)
    return escape(re.sub(r"\\([*_`\[\]])", r"\1", text))[:SECTION_LIMIT]


def _chunks(text: str) -> list[str]:
    chunks, current = [], ""
    for line in text.split("\n"):
        while len(line) > SECTION_LIMIT:
            chunks.append(line[:SECTION_LIMIT])
            line = line[SECTION_LIMIT:]
        if len(current) + len(line) + 1 > SECTION_LIMIT:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


CONTEXT_LINE = re.compile(r"^_[^_].*[^_\\]_$")


def _text_blocks(text: str) -> list[dict[str, Any]]:
    """Sections for ordinary lines; a line that is entirely _italic_ becomes a context block."""
    out: list[dict[str, Any]] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            out.extend({"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
                       for chunk in _chunks(to_mrkdwn("\n".join(pending))))
            pending.clear()

    for line in text.split("\n"):
        if CONTEXT_LINE.match(line) and len(line) < SECTION_LIMIT:
            flush()
            out.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                          "text": to_mrkdwn(line)}]})
        else:
            pending.append(line)
    flush()
    return out


def blocks(reply: Reply) -> list[dict[str, Any]]:
    """Sections for the text (context blocks for meta lines), fields, one actions block."""
    out = _text_blocks(reply.text)
    for start in range(0, len(reply.fields), 10):
        out.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{escape(f.label)}*\n{escape(f.value)}"}
            for f in reply.fields[start:start + 10]]})
    if len(out) > MAX_TEXT_BLOCKS:  # Slack allows 50 blocks a message; keep room for buttons
        out = out[:MAX_TEXT_BLOCKS - 1] + [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": "… (shortened: the full text was too long for Slack)"}]}]
    if reply.choices:
        out.append({"type": "actions", "elements": [
            {"type": "button", "action_id": f"{choice.action_id}:{index}",
             "text": {"type": "plain_text", "text": _label(choice.label), "emoji": True},
             "value": choice.value[:2000]}
            for index, choice in enumerate(reply.choices[:MAX_BUTTONS])]})
    return out


def _label(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[:LABEL_LIMIT - 1] + "…"


def route_of(action_id: str) -> str:
    """Our action id from a button's Slack action_id ('quiz.answer:2' -> 'quiz.answer')."""
    return action_id.rsplit(":", 1)[0] if ":" in action_id else action_id


def home_view(replies: list[Reply]) -> dict[str, Any]:
    """An App Home tab view from the core's dashboard replies."""
    view_blocks: list[dict[str, Any]] = []
    for index, reply in enumerate(replies):
        if index:
            view_blocks.append({"type": "divider"})
        view_blocks += blocks(reply)
    return {"type": "home", "blocks": view_blocks[:100]}
