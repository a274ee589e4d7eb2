"""`forget me`, `export me` and an admin's `forget <user>`: a person's data, shown or deleted.

`forget me` shows what would be deleted and asks for confirmation (a Confirm and a Cancel
button, or `forget me confirm` typed); confirmed, every row about the asker in this workspace is
deleted in one transaction and the reply says how many of each kind. Rows that belong to a
channel as well (a daily schedule the person switched on, a report they resolved) stay with the
person's id removed. An admin can do the same for a departed colleague: `forget <@mention>`,
`forget <user id>` or `forget <display name>`. `export me` gives the asker their data as JSON:
whole in the terminal, in Slack and Teams a summary with counts and the JSON cut to
`CHAT_EXPORT_LIMIT` characters (`aws-quiz db export-user` prints all of it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from bot.model import Action, Choice, Context, Message, Reply
from bot.router import Router
from bot.store.database import utcnow
from bot.store.privacystore import PrivacyStore, export_document
from bot.text import escape_md

log = logging.getLogger(__name__)

FORGET_ACTION = "privacy.forget"
CANCEL_ACTION = "privacy.cancel"
# A Slack section holds 3,000 characters and a code block cannot span two; Teams cards are
# larger, but one limit for every chat keeps the reply readable. The terminal prints it all.
CHAT_EXPORT_LIMIT = 2500
FULL_EXPORT_PLATFORMS = frozenset({"console"})
MENTION_RE = re.compile(r"^<@([A-Za-z0-9._-]+)(?:\|[^>]*)?>$")
USAGE = ("Usage: `forget me` deletes everything I store about you (I ask first). Admins: "
         "`forget @someone` (or their user id) for a colleague who has left.")


def _count_lines(counts: dict[str, int]) -> list[str]:
    return [f"- {label}: {n}" for label, n in counts.items()]


class PrivacyFeature:
    """The privacy commands; every deletion is confirmed, admin-only ones re-checked on press."""

    def __init__(self, store: PrivacyStore, admins: frozenset[str] = frozenset(),
                 clock: Callable[[], datetime] = utcnow,
                 full_export_platforms: frozenset[str] = FULL_EXPORT_PLATFORMS) -> None:
        self.store = store
        self.admins = admins
        self.clock = clock
        self.full_export_platforms = full_export_platforms

    def register(self, router: Router) -> None:
        router.command("forget", "forget me",
                       "delete everything the bot stores about you (asks first)", self.cmd_forget)
        router.command("export", "export me", "your data as JSON", self.cmd_export)
        router.action(FORGET_ACTION, self.on_forget)
        router.action(CANCEL_ACTION, self.on_cancel)

    def _is_admin(self, ctx: Context) -> bool:
        return ctx.is_admin or ctx.user in self.admins

    @staticmethod
    def _direct_channel(ctx: Context) -> str | None:
        return ctx.channel if ctx.direct and ctx.channel else None

    # -- forget ---------------------------------------------------------------------------

    async def cmd_forget(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        words = args.split()
        confirmed = len(words) > 1 and words[-1].lower() == "confirm"
        if confirmed:
            words = words[:-1]
        if not words:
            return [Reply(USAGE, private=True)]
        who = " ".join(words)
        if who.lower() in ("me", "myself"):
            return await self._forget_me(ctx, confirmed)
        if not self._is_admin(ctx):
            return [Reply("Only workspace admins (or people listed in AWS_QUIZ_ADMINS) can make "
                          "me forget someone else. `forget me` deletes what I store about you.",
                          private=True)]
        target = await self._resolve(ctx.tenant, who)
        if isinstance(target, Reply):
            return [target]
        if target == ctx.user:
            return await self._forget_me(ctx, confirmed)
        return await self._forget_other(ctx, target, confirmed)

    async def _resolve(self, tenant: str, who: str) -> str | Reply:
        """The user id an admin means, or a reply saying why it is not clear."""
        mention = MENTION_RE.match(who)
        text = mention.group(1) if mention else who.lstrip("@").strip()
        matches = await self.store.find_users(tenant, text)
        if len(matches) == 1:
            return matches[0][0]
        if len(matches) > 1:
            lines = [f"Several people here are called \"{escape_md(text)}\"; use their user id:"]
            lines += [f"- `forget {escape_md(uid)}` ({escape_md(name)})" for uid, name in matches]
            return Reply("\n".join(lines), private=True)
        if mention is None and " " in text:
            return Reply(f"I know nobody called \"{escape_md(text)}\" in this workspace. Use "
                         "an @mention or their user id.", private=True)
        return text  # an id the bot may still hold rows for (daily answers, reports)

    async def _forget_me(self, ctx: Context, confirmed: bool) -> list[Reply]:
        if confirmed:
            return [await self._do_forget(ctx, ctx.user, self_forget=True, replace=False)]
        counts = await self.store.counts(ctx.tenant, ctx.user, self._direct_channel(ctx))
        if not counts:
            return [Reply("I store nothing about you in this workspace: there is nothing to "
                          "forget.", private=True)]
        text = "\n".join(["**Forget you?** This deletes everything I store about you in this "
                          "workspace, for good:", *_count_lines(counts),
                          "Your progress, review schedule and exam results cannot be brought "
                          "back. (Typed: `forget me confirm`.)"])
        return [Reply(text, private=True, choices=(
            Choice(FORGET_ACTION, "Delete my data", f"me:{ctx.user}"),
            Choice(CANCEL_ACTION, "Cancel", "")))]

    async def _forget_other(self, ctx: Context, target: str, confirmed: bool) -> list[Reply]:
        if confirmed:
            return [await self._do_forget(ctx, target, self_forget=False, replace=False)]
        counts = await self.store.counts(ctx.tenant, target)
        if not counts:
            return [Reply(f"I store nothing about `{escape_md(target)}` in this workspace.",
                          private=True)]
        text = "\n".join([f"**Forget `{escape_md(target)}`?** This deletes everything I store "
                          "about them in this workspace, for good:", *_count_lines(counts),
                          f"(Typed: `forget {escape_md(target)} confirm`.)"])
        return [Reply(text, private=True, choices=(
            Choice(FORGET_ACTION, "Delete their data", f"user:{target}"),
            Choice(CANCEL_ACTION, "Cancel", "")))]

    async def _do_forget(self, ctx: Context, target: str, self_forget: bool,
                         replace: bool) -> Reply:
        direct = self._direct_channel(ctx) if self_forget else None
        counts = await self.store.forget(ctx.tenant, target, direct)
        log.info("privacy: forgot a %s in tenant %s (%d rows)",
                 "learner at their request" if self_forget else "user at an admin's request",
                 ctx.tenant, sum(counts.values()))
        if not counts:
            text = ("There was nothing to delete." if self_forget
                    else f"I store nothing about `{escape_md(target)}` in this workspace.")
        elif self_forget:
            text = "\n".join(["**Done: I have forgotten you.** Deleted:", *_count_lines(counts),
                              "If you use me again, you start from scratch."])
        else:
            text = "\n".join([f"**Done: `{escape_md(target)}` is forgotten.** Deleted:",
                              *_count_lines(counts)])
        return Reply(text, private=True, replace=replace)

    async def on_forget(self, action: Action) -> list[Reply]:
        ctx = action.context
        kind, _, target = action.value.partition(":")
        if kind == "me":
            if target != ctx.user:
                return [Reply("That button was for someone else. Type `forget me` to delete "
                              "your own data.", private=True)]
            return [await self._do_forget(ctx, ctx.user, self_forget=True, replace=True)]
        if kind == "user" and target:
            if not self._is_admin(ctx):
                return [Reply("Only workspace admins can make me forget someone else.",
                              private=True)]
            return [await self._do_forget(ctx, target, self_forget=target == ctx.user,
                                          replace=True)]
        return [Reply("That button no longer does anything. " + USAGE, private=True)]

    async def on_cancel(self, action: Action) -> list[Reply]:
        return [Reply("Cancelled: nothing was deleted.", private=True, replace=True)]

    # -- export ---------------------------------------------------------------------------

    async def cmd_export(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        if args.strip().lower() not in ("", "me", "my data"):
            return [Reply("Usage: `export me` gives you everything I store about you, as JSON.",
                          private=True)]
        data = await self.store.export(ctx.tenant, ctx.user)
        if not data:
            return [Reply("I store nothing about you in this workspace.", private=True)]
        document = export_document(ctx.tenant, ctx.user, data, self.clock())
        lines = ["**Your data** (everything I store about you in this workspace):"]
        lines += [f"- {name.replace('_', ' ')}: {len(rows)}" for name, rows in data.items()]
        body = document
        if ctx.platform not in self.full_export_platforms and len(document) > CHAT_EXPORT_LIMIT:
            cut = document.rfind("\n", 0, CHAT_EXPORT_LIMIT)
            body = document[:cut if cut > 0 else CHAT_EXPORT_LIMIT]
            lines.append(f"_The JSON below is cut after {len(body):,} of {len(document):,} "
                         "characters; an operator can print all of it with `aws-quiz db "
                         "export-user`._")
        lines += ["```", escape_md(body), "```"]
        return [Reply("\n".join(lines), private=True)]
