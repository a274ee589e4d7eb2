"""Replies as Teams sees them: an HTML message, or an Adaptive Card when there are buttons.

The core writes a small markdown subset (`**bold**`, `_italic_`, `` `code` ``, `- ` bullets,
`[label](https://...)`), with user text already escaped by backslashes (`\\*`, `\\_`, ...). We
parse that subset into a tiny tree and write it out again for the target, so that only the
markup the core wrote can become markup:

- plain replies become a message with `textFormat: xml` (Teams' HTML subset): every character is
  HTML-escaped first, then `<b>`, `<i>`, `<code>`, `<a>`, `<ul>` are added for the core's markup.
  `<`, `>` and `&` in user text stay text, and `<at>` mentions cannot be forged;
- replies with choices or fields (and card updates) become an Adaptive Card 1.5: one wrapping
  TextBlock per line (bullets grouped into one list), a FactSet for fields, and Action.Submit
  buttons whose data is `{"action_id", "value"}`. TextBlock markdown has no inline code, so code
  is shown bold; markdown characters from text are backslash-escaped and `&`, `<`, `>` become
  entities.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import CardFactory

from bot.model import Reply

CARD_VERSION = "1.5"
BUTTONS_PER_ROW = 5
_ESCAPABLE = "*_`[]\\"
_LINK = re.compile(r"\[((?:\\.|[^\]\\])+)\]\((https?://[^)\s]+)\)")
_CARD_SPECIAL = re.compile(r"([\\*_`\[\]~#])")


@dataclass
class Node:
    """One piece of inline markup: text, code, b(old), i(talic) or a (link)."""

    kind: str
    text: str = ""
    children: list[Node] = field(default_factory=list)
    url: str = ""


def _closing(text: str, marker: str, start: int) -> int:
    """Index of the next unescaped `marker` at or after `start`, or -1."""
    index = start
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text.startswith(marker, index):
            if marker == "_" and index + 1 < len(text) and text[index + 1].isalnum():
                index += 1
                continue
            return index
        index += 1
    return -1


def parse_inline(text: str) -> list[Node]:
    """The core's inline markdown as a tree; anything that is not markup is text."""
    nodes: list[Node] = []
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            nodes.append(Node("text", "".join(buffer)))
            buffer.clear()

    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in _ESCAPABLE:
            buffer.append(text[index + 1])
            index += 2
            continue
        if char == "`":
            end = text.find("`", index + 1)
            if end > index + 1:
                flush()
                nodes.append(Node("code", text[index + 1:end]))
                index = end + 1
                continue
        if text.startswith("**", index):
            end = _closing(text, "**", index + 2)
            if end > index + 2:
                flush()
                nodes.append(Node("b", children=parse_inline(text[index + 2:end])))
                index = end + 2
                continue
        if char == "_" and (index == 0 or not text[index - 1].isalnum()):
            end = _closing(text, "_", index + 1)
            if end > index + 1:
                flush()
                nodes.append(Node("i", children=parse_inline(text[index + 1:end])))
                index = end + 1
                continue
        if char == "[":
            match = _LINK.match(text, index)
            if match is not None:
                flush()
                nodes.append(Node("a", children=parse_inline(match.group(1)),
                                  url=match.group(2)))
                index = match.end()
                continue
        buffer.append(char)
        index += 1
    flush()
    return nodes


def plain(nodes: list[Node]) -> str:
    """Just the words (notification previews, fallbacks)."""
    return "".join(n.text if n.kind in ("text", "code") else plain(n.children) for n in nodes)


def to_html(nodes: list[Node]) -> str:
    out = []
    for node in nodes:
        if node.kind == "text":
            out.append(html.escape(node.text, quote=False))
        elif node.kind == "code":
            out.append(f"<code>{html.escape(node.text, quote=False)}</code>")
        elif node.kind == "b":
            out.append(f"<b>{to_html(node.children)}</b>")
        elif node.kind == "i":
            out.append(f"<i>{to_html(node.children)}</i>")
        else:
            out.append(f'<a href="{html.escape(node.url, quote=True)}">'
                       f"{to_html(node.children)}</a>")
    return "".join(out)


def _card_text(text: str) -> str:
    escaped = _CARD_SPECIAL.sub(r"\\\1", text)
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_card_markdown(nodes: list[Node]) -> str:
    out = []
    for node in nodes:
        if node.kind == "text":
            out.append(_card_text(node.text))
        elif node.kind == "code":
            out.append(f"**{_card_text(node.text)}**")
        elif node.kind == "b":
            out.append(f"**{to_card_markdown(node.children)}**")
        elif node.kind == "i":
            out.append(f"_{to_card_markdown(node.children)}_")
        else:
            url = node.url.replace("(", "%28").replace(")", "%29")
            out.append(f"[{to_card_markdown(node.children)}]({url})")
    return "".join(out)


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Lines grouped: ("line", [text]) or ("bullets", [item, item, ...])."""
    blocks: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        if line.startswith("- "):
            if blocks and blocks[-1][0] == "bullets":
                blocks[-1][1].append(line[2:])
            else:
                blocks.append(("bullets", [line[2:]]))
        else:
            blocks.append(("line", [line]))
    return blocks


def message_html(text: str) -> str:
    """A reply's text as Teams message HTML."""
    parts: list[str] = []
    for kind, lines in _blocks(text):
        if kind == "bullets":
            items = "".join(f"<li>{to_html(parse_inline(item))}</li>" for item in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(to_html(parse_inline(lines[0])))
    out = ""
    for index, part in enumerate(parts):
        if index and not part.startswith("<ul>") and not parts[index - 1].startswith("<ul>"):
            out += "<br>"
        out += part
    return out


def adaptive_card(reply: Reply) -> dict[str, Any]:
    """The reply as an Adaptive Card: text blocks, a fact set, Action.Submit buttons."""
    body: list[dict[str, Any]] = []
    for kind, lines in _blocks(reply.text):
        if kind == "bullets":
            text = "\n".join(f"- {to_card_markdown(parse_inline(item))}" for item in lines)
        else:
            if not lines[0].strip():
                continue
            text = to_card_markdown(parse_inline(lines[0]))
        body.append({"type": "TextBlock", "text": text, "wrap": True,
                     "spacing": "Small" if body else "None"})
    if reply.fields:
        body.append({"type": "FactSet", "facts": [
            {"title": to_card_markdown(parse_inline(f.label)),
             "value": to_card_markdown(parse_inline(f.value))} for f in reply.fields]})
    for start in range(0, len(reply.choices), BUTTONS_PER_ROW):
        row = reply.choices[start:start + BUTTONS_PER_ROW]
        body.append({"type": "ActionSet", "actions": [
            {"type": "Action.Submit", "title": choice.label,
             "data": {"action_id": choice.action_id, "value": choice.value}}
            for choice in row]})
    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION, "body": body, "msteams": {"width": "Full"}}


def to_activity(reply: Reply, updating: bool = False) -> Activity:
    """The activity for one reply: a card when it has buttons or fields (and for card updates)."""
    if updating or reply.choices or reply.fields:
        summary = plain(parse_inline(reply.text.split("\n", 1)[0])).strip()[:120]
        return Activity(type=ActivityTypes.message, summary=summary,
                        attachments=[CardFactory.adaptive_card(adaptive_card(reply))])
    return Activity(type=ActivityTypes.message, text=message_html(reply.text), text_format="xml")
