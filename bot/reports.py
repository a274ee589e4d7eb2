"""Reporting a bad question or answer: `report`, the "Report a problem" button and `reports`.

A learner's report targets, in this order: an entry or question named before a colon
(`report ebs: the size limit is wrong`); otherwise whichever is more recent of the item they
pressed "Report a problem" on (kept as a draft) and the question last shown to them, both within
the last two hours. Admins list a tenant's reports grouped by item and resolve them by button or
by text; button values are re-checked (admin rights, tenant) on every press.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.answers import REPORT_ACTION
from bot.knowledge.schema import KnowledgeBase
from bot.language.text import normalise
from bot.model import Action, Choice, Context, Message, Reply
from bot.store.database import utcnow
from bot.store.reportstore import (
    OPEN,
    RESOLUTION_LIMIT,
    TEXT_LIMIT,
    Report,
    ReportStore,
    TooManyReports,
)
from bot.text import escape_md

if TYPE_CHECKING:
    from bot.router import Router

RESOLVE_ACTION = "report.resolve"
RECENT = timedelta(hours=2)  # how long a shown question or a pressed button stays "this one"
DAILY_LIMIT = 10  # open reports one learner may file in 24 hours
LIST_LIMIT = 20  # reports shown (each with a Resolve button) in one `reports` reply
KINDS = ("question", "entry")

HOW_TO = ("Tell the content authors what's wrong with a question or an answer:\n"
          "- just after a question, type `report <what's wrong>` "
          "(e.g. `report option B is also correct`), or press **Report a problem** under it;\n"
          "- for a lookup answer, press **Report a problem** under it, or type "
          "`report <entry name>: <what's wrong>` (e.g. `report ebs: the size limit changed`).")


def _one_line(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


class ReportFeature:
    """The `report` and `reports` commands and their buttons."""

    def __init__(self, kb: KnowledgeBase, store: ReportStore,
                 admins: frozenset[str] = frozenset(),
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.kb = kb
        self.store = store
        self.admins = admins
        self.clock = clock
        self._names = self._name_index(kb)

    def register(self, router: Router) -> None:
        router.command("report", "report <what's wrong>",
                       "tell the authors a question or answer is wrong", self.cmd_report)
        router.command("reports", "reports [all] | reports resolve <id> [note]",
                       "learners' reports on questions and answers (admins)", self.cmd_reports)
        router.action(REPORT_ACTION, self.on_start)
        router.action(RESOLVE_ACTION, self.on_resolve)

    # -- what a report is about ---------------------------------------------------------------

    @staticmethod
    def _name_index(kb: KnowledgeBase) -> dict[str, tuple[str, str]]:
        """Normalised names (ids, titles, aliases, former names) -> (kind, item id)."""
        index: dict[str, tuple[str, str]] = {}
        for question_id in kb.questions:
            index.setdefault(normalise(question_id), ("question", question_id))
        for entry in kb.entries.values():
            names = [entry.id, entry.id.replace("-", " "), entry.title, *entry.aliases,
                     *entry.former_names]
            for name in names:
                for variant in (name, name.split("(")[0]):
                    key = normalise(variant)
                    for prefix in ("", "amazon ", "aws "):
                        if prefix and key.startswith(prefix) and len(key) > len(prefix) + 1:
                            index.setdefault(key[len(prefix):], ("entry", entry.id))
                    if key:
                        index.setdefault(key, ("entry", entry.id))
        return index

    def title(self, kind: str, item_id: str) -> str | None:
        """How the item reads to people (markdown-safe), or None when it no longer exists."""
        if kind == "question":
            question = self.kb.questions.get(item_id)
            return None if question is None else escape_md(_one_line(question.prompt))
        entry = self.kb.entries.get(item_id)
        return None if entry is None else escape_md(entry.title)

    def _named(self, text: str) -> tuple[str, str, str] | None:
        """(kind, item id, words) for `<entry name or id>: <words>`, else None."""
        name, colon, words = text.partition(":")
        if not colon or not words.strip():
            return None
        target = self._names.get(normalise(name))
        return None if target is None else (*target, words.strip())

    async def _recent(self, ctx: Context) -> tuple[str, str, str | None] | None:
        """(kind, item id, draft id) of the button pressed or question shown most recently."""
        since = self.clock() - RECENT
        draft = await self.store.draft(ctx.tenant, ctx.user, since)
        shown = await self.store.latest_showing(ctx.tenant, ctx.user, since)
        if draft is not None and (shown is None or draft.created_at >= shown[1]):
            return draft.kind, draft.item_id, draft.id
        if shown is not None:
            return "question", shown[0], None
        return None

    # -- learners ---------------------------------------------------------------------------

    async def on_start(self, action: Action) -> list[Reply]:
        """"Report a problem" pressed: remember the item and ask for the learner's words."""
        kind, _, item_id = action.value.partition(":")
        title = self.title(kind, item_id) if kind in KINDS else None
        if title is None:
            return [Reply("That question or entry no longer exists, so there is nothing to "
                          "report. Thanks for checking!", private=True)]
        ctx = action.context
        await self.store.start_draft(ctx.platform, ctx.tenant, ctx.user, ctx.user_name, kind,
                                     item_id)
        return [Reply(f"What's wrong with «{title}»? Type `report <what's wrong>`.",
                      private=True)]

    async def cmd_report(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        if not args.strip():
            return [Reply(HOW_TO, private=True)]
        named = self._named(args)
        if named is not None:
            kind, item_id, words = named
            draft_id: str | None = None
        else:
            recent = await self._recent(ctx)
            if recent is None:
                return [Reply("I don't know which question you mean: none was shown to you in "
                              "the last 2 hours. Nothing was recorded; your words were "
                              f"\"{escape_md(_one_line(args, 200))}\".\n" + HOW_TO, private=True)]
            kind, item_id, draft_id = recent
            words = args.strip()
        title = self.title(kind, item_id)
        if title is None:
            return [Reply("That question or entry no longer exists in the course notes, so "
                          "there is nothing to report. Nothing was recorded.", private=True)]
        try:
            report = await self.store.file(ctx.platform, ctx.tenant, ctx.user,
                                           ctx.user_name or ctx.user, kind, item_id, words,
                                           daily_limit=DAILY_LIMIT, draft_id=draft_id)
        except TooManyReports:
            return [Reply(f"You already have {DAILY_LIMIT} reports from the last 24 hours "
                          "waiting for an admin, the most one person can file in a day. "
                          "Nothing was recorded; please try again once some are resolved, or "
                          "tell an admin directly.", private=True)]
        cut = (f"\n_Your text was longer than {TEXT_LIMIT} characters; "
               f"the first {TEXT_LIMIT} were kept._" if len(words) > TEXT_LIMIT else "")
        return [Reply(f"Thanks! Your report on the {kind} «{title}» is recorded "
                      f"(report `{report.id}`): \"{escape_md(_one_line(report.text, 200))}\"\n"
                      "Admins will look at it." + cut, private=True)]

    # -- admins -----------------------------------------------------------------------------

    def _is_admin(self, ctx: Context) -> bool:
        return ctx.is_admin or ctx.user in self.admins

    async def cmd_reports(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        if not self._is_admin(ctx):
            return [Reply("Only admins can list reports. You can still file one: "
                          "`report <what's wrong>`.", private=True)]
        words = args.split(maxsplit=2)
        verb = words[0].lower() if words else ""
        if verb in ("", "open"):
            return [await self.listing(ctx, include_resolved=False)]
        if verb == "all":
            return [await self.listing(ctx, include_resolved=True)]
        if verb == "resolve" and len(words) >= 2:
            note = words[2] if len(words) > 2 else None
            return [Reply(await self._resolve(ctx, words[1], note), private=True)]
        return [Reply("Usage: `reports` (open ones), `reports all` (resolved too), "
                      "`reports resolve <id> [note]`.", private=True)]

    async def on_resolve(self, action: Action) -> list[Reply]:
        """A Resolve button: re-check rights and tenant, then show the list again."""
        ctx = action.context
        if not self._is_admin(ctx):
            return [Reply("Only admins can resolve reports.", private=True)]
        outcome = await self._resolve(ctx, action.value, None)
        listing = await self.listing(ctx, include_resolved=False)
        return [Reply(f"{outcome}\n\n{listing.text}", choices=listing.choices, private=True,
                      replace=True)]

    async def _resolve(self, ctx: Context, report_id: str, note: str | None) -> str:
        report_id = report_id.strip().strip("`").lower()
        if note is not None and len(note) > RESOLUTION_LIMIT:
            note = note[:RESOLUTION_LIMIT]
        if await self.store.resolve(report_id, ctx.platform, ctx.tenant, ctx.user, note):
            return f"✅ Report `{escape_md(report_id)}` resolved." + (
                f" Note: \"{escape_md(_one_line(note, 200))}\"" if note else "")
        report = await self.store.get(report_id)
        if (report is None or report.status == "draft" or report.tenant != ctx.tenant
                or report.platform != ctx.platform):
            return (f"There is no report `{escape_md(_one_line(report_id, 40))}` here. "
                    "`reports` lists the open ones.")
        when = report.resolved_at.strftime(" on %Y-%m-%d %H:%M UTC") if report.resolved_at else ""
        return (f"Report `{report.id}` was already resolved by "
                f"{escape_md(report.resolved_by or 'someone')}{when}.")

    async def listing(self, ctx: Context, include_resolved: bool) -> Reply:
        """The tenant's reports grouped by item, newest first, a Resolve button per open one."""
        found = await self.store.listing(ctx.platform, ctx.tenant, include_resolved)
        which = "" if include_resolved else "open "
        if not found:
            more = "" if include_resolved else " `reports all` shows resolved ones too."
            return Reply(f"No {which}reports. 🎉{more}", private=True)
        shown = found[:LIST_LIMIT]
        groups: dict[tuple[str, str], list[Report]] = {}
        for report in shown:  # newest first, so groups are ordered by their newest report
            groups.setdefault((report.kind, report.item_id), []).append(report)
        lines = [f"**{len(found)} {which}report{'s' if len(found) != 1 else ''}**"
                 + (f" (the newest {LIST_LIMIT} shown)" if len(found) > LIST_LIMIT else "")]
        choices: list[Choice] = []
        for (kind, item_id), items in groups.items():
            title = self.title(kind, item_id) or "_no longer in the knowledge base_"
            count = f"{len(items)} report{'s' if len(items) != 1 else ''}"
            lines.append(f"**{kind.capitalize()}** «{title}» (`{escape_md(item_id)}`): {count}")
            for report in items:
                day = report.created_at.strftime("%Y-%m-%d")
                line = (f"- `{report.id}` {escape_md(report.user_name)}, {day}: "
                        f"\"{escape_md(_one_line(report.text, 300))}\"")
                if report.status == OPEN:
                    choices.append(Choice(RESOLVE_ACTION, f"Resolve {report.id}", report.id))
                else:
                    note = f": \"{escape_md(_one_line(report.resolution, 200))}\"" \
                        if report.resolution else ""
                    line += f" _(resolved by {escape_md(report.resolved_by or '?')}{note})_"
                lines.append(line)
        lines.append("Resolve with a button or `reports resolve <id> [note]`.")
        return Reply("\n".join(lines), choices=tuple(choices), private=True)
