"""Turn lookup results into replies: the entry, former-name notes, related entries, suggestions."""

from __future__ import annotations

from bot.knowledge.schema import KnowledgeBase
from bot.lookup import HINT, LookupResult
from bot.model import Choice, Reply
from bot.text import escape_md

ASK_ACTION = "ask.entry"
REPORT_ACTION = "report.start"  # value "entry:<id>" or "question:<id>"; see bot/reports.py


def entry_reply(kb: KnowledgeBase, result: LookupResult) -> Reply:
    """The answer to a lookup: the best entry when confident, suggestions otherwise."""
    best = result.best
    if best is None or not result.confident:
        return no_match_reply(result)
    if result.compared:
        return comparison_reply(kb, result)
    entry = best.entry
    lines = [f"**{entry.title}**"]
    if best.former_name:
        lines.append(
            f"_Note: \"{escape_md(best.via)}\" is an old or misspelt name; "
            f"the current name is {entry.title}._"
        )
    lines.append(entry.summary)
    lines.extend(f"- {detail}" for detail in entry.details)
    alternatives = [m.entry for m in result.close_alternatives()]
    shown = {entry.id, *(a.id for a in alternatives)}
    related = [kb.entries[r] for r in dict.fromkeys(entry.related)
               if r in kb.entries and r not in shown]
    if related:
        lines.append("Related: " + ", ".join(r.title for r in related))
    if entry.links:
        lines.append("Docs: " + ", ".join(f"[{_link_label(url)}]({url})" for url in entry.links))
    module = kb.module_of(entry.section)
    lines.append(f"_{module} › {entry.section}_")
    if alternatives:
        lines.append("Did you mean: " + ", ".join(a.title for a in alternatives) + "?")
    choices = [Choice(ASK_ACTION, e.title, e.id) for e in [*alternatives, *related][:5]]
    choices.append(Choice(REPORT_ACTION, "Report a problem", f"entry:{entry.id}"))
    return Reply("\n".join(lines), choices=tuple(choices), private=True)


def comparison_reply(kb: KnowledgeBase, result: LookupResult) -> Reply:
    """Two or more entries side by side, when no entry compares them."""
    lines = ["**" + " vs ".join(m.entry.title for m in result.compared) + "**"]
    for match in result.compared:
        entry = match.entry
        lines.append(f"**{entry.title}**: {entry.summary}")
        lines.extend(f"- {detail}" for detail in entry.details[:3])
    lines.append("_Pick one for the whole entry._")
    choices = tuple(Choice(ASK_ACTION, m.entry.title, m.entry.id) for m in result.compared[:5])
    return Reply("\n".join(lines), choices=choices, private=True)


def no_match_reply(result: LookupResult) -> Reply:
    """'No confident match', with a few suggestions and never a made-up answer."""
    query = escape_md(result.query.strip()) or "that"
    suggestions = [m.entry for m in result.matches[:3]]
    if suggestions and result.matches[0].score >= HINT:
        lines = [f"I'm not sure which entry answers \"{query}\". The closest are:"]
        lines.extend(f"- **{e.title}**: {e.summary}" for e in suggestions)
    else:
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
