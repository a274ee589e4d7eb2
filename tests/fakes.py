"""An in-memory adapter that drives the core like a chat platform would (no network)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.model import Action, Choice, Context, Message, Reply
from bot.router import Router


@dataclass
class FakeChat:
    """push(text) and press(label) as a user; replies come back as the core made them."""

    router: Router
    tenant: str = "T1"
    last: list[Reply] = field(default_factory=list)

    def context(self, user: str, dm: bool = True, admin: bool = False,
                channel: str = "C1") -> Context:
        return Context(platform="console", tenant=self.tenant, user=user, user_name=user,
                       channel=f"D-{user}" if dm else channel, direct=dm, is_admin=admin)

    async def push(self, text: str, user: str = "alice", dm: bool = True) -> list[Reply]:
        self.last = await self.router.handle(Message(self.context(user, dm), text))
        return self.last

    async def click(self, choice: Choice, user: str = "alice") -> list[Reply]:
        self.last = await self.router.handle_action(Action(self.context(user), choice.action_id,
                                                           choice.value))
        return self.last

    def choice(self, label: str, replies: list[Reply] | None = None) -> Choice:
        for reply in replies if replies is not None else self.last:
            for choice in reply.choices:
                if choice.label == label or choice.label.startswith(label):
                    return choice
        raise AssertionError(f"no choice {label!r} in {[r.choices for r in self.last]}")


def shown_question_id(reply: Reply) -> str:
    """The showing id carried by a question's answer buttons."""
    return reply.choices[0].value.split(":")[0]


def option_letters(reply: Reply) -> dict[str, str]:
    """Letter -> option text as the question was shown."""
    return dict(re.findall(r"^([A-H])\) (.+?)(?: ✔ picked)?$", reply.text, flags=re.M))
