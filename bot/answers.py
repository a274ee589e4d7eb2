"""Turn lookup results into replies: the entry, former-name notes, related entries, suggestions."""

from __future__ import annotations

from bot.knowledge.schema import KnowledgeBase
from bot.lookup import LookupResult
from bot.model import Choice, Reply
from bot.text import escape_md

ASK_ACTION = "ask.entry"


def entry_reply(kb: KnowledgeBase, result: LookupResult) -> Reply:
    """The answer to a lookup: the best entry when confident, suggestions otherwise."""
    best = result.best
    if best is None or not result.confident:
        return no_match_reply(result)
    entry = best.entry
    lines = [f"**{entry.title}**"]
    if best.former_name:
        lines.append(
            f"_Note: \"{escape_md(best.via)}\" is an old or misspelt name; "
            f"the current name is {entry.title}._"
        )
    lines.append(entry.summary)
    lines.extend(f"- {detail}" for detail in entry.details)
    related = [kb.entries[r] for r in entry.related if r in kb.entries]
    if related:
        lines.append("Related: " + ", ".join(f"{r.title} (`{r.id}`)" for r in related))
    if entry.links:
        lines.append("Docs: " + ", ".join(f"[{_link_label(url)}]({url})" for url in entry.links))
    module = kb.module_of(entry.section)
    lines.append(f"_{module} › {entry.section}_")
    alternatives = result.close_alternatives()
    if alternatives:
        lines.append("Did you mean: " + ", ".join(m.entry.title for m in alternatives) + "?")
    choices = [Choice(ASK_ACTION, m.entry.title, m.entry.id) for m in alternatives]
    choices += [Choice(ASK_ACTION, r.title, r.id) for r in related[:5 - len(choices)]]
    return Reply("\n".join(lines), choices=tuple(choices[:5]), private=True)


def no_match_reply(result: LookupResult) -> Reply:
    """'No confident match', with a few suggestions and never a made-up answer."""
    query = escape_md(result.query.strip()) or "that"
    suggestions = [m.entry for m in result.matches[:3]]
    lines = [f"No confident match for \"{query}\" in the course notes."]
    if suggestions:
        lines.append("Did you mean: " + ", ".join(e.title for e in suggestions) + "?")
    lines.append("Try a service name (`ask s3`), a question (`what is the shared responsibility "
                 "model`), or `topics` to browse.")
    return Reply("\n".join(lines), choices=tuple(Choice(ASK_ACTION, e.title, e.id)
                                                 for e in suggestions), private=True)


def _link_label(url: str) -> str:
    host_and_path = url.split("://", 1)[-1]
    return "AWS docs" if "docs.aws.amazon.com" in host_and_path else "aws.amazon.com"
