"""The learner's dashboard (Slack App Home and similar): progress plus buttons to start things."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from weakref import WeakKeyDictionary

from bot.model import Action, Choice, Context, Message, Reply
from bot.router import Router

RUN_ACTION = "run"

START_BUTTONS = (
    Choice(RUN_ACTION, "Start a quiz", "quiz"),
    Choice(RUN_ACTION, "Review what's due", "review"),
    Choice(RUN_ACTION, "Practice exam", "exam"),
    Choice(RUN_ACTION, "Role-play an objection", "roleplay"),
)

# A feature's part of the dashboard (readiness, the team summary for admins), given who looks.
HomeBlock = Callable[[Context], Awaitable[list[Reply]]]
_blocks: WeakKeyDictionary[Router, list[HomeBlock]] = WeakKeyDictionary()


def register_run_action(router: Router) -> None:
    """A button whose value is a command line runs that command, as if typed."""

    async def run(action: Action) -> list[Reply]:
        return await router.handle(Message(action.context, action.value))

    router.action(RUN_ACTION, run)


def add_home_block(router: Router, block: HomeBlock) -> None:
    """Show `block` in this router's dashboard, after the stats, in the order added."""
    _blocks.setdefault(router, []).append(block)


async def dashboard(router: Router, ctx: Context) -> list[Reply]:
    """Stats (when the store is there), the features' blocks and the start buttons."""
    replies: list[Reply] = []
    if router.has_command("stats"):
        replies += await router.handle(Message(ctx, "stats"))
    for block in _blocks.get(router, ()):
        replies += await block(ctx)
    buttons = tuple(b for b in START_BUTTONS if router.has_command(b.value))
    replies.append(Reply("**Study now**: pick up where you left off, or try something new. "
                         "You can also type `/aws-quiz help`.", choices=buttons))
    return replies
