"""The daily channel question, end to end through the core with a recording outbound port."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.model import Action, Context, ConversationRef, Message, Reply
from bot.ports import NotDelivered
from bot.store.database import Database
from tests.conftest import KNOWLEDGE


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingOutbound:
    """Stands in for a platform that cannot be asked what it received (like Teams)."""

    platform = "console"

    def __init__(self) -> None:
        self.posts: list[tuple[str, str | None, Reply]] = []
        self.keys: list[str | None] = []
        self.updates: list[tuple[str, Reply]] = []
        self.fail_next = False  # refuse the next post clearly (nothing delivered)
        self.lose_answer = 0  # deliver the next n posts, then fail as a timeout would

    async def post(self, ref: ConversationRef, reply: Reply, thread: str | None = None,
                   key: str | None = None) -> str:
        if self.fail_next:
            self.fail_next = False
            raise NotDelivered("platform unavailable")
        self.posts.append((ref.channel, thread, reply))
        self.keys.append(key)
        if self.lose_answer:
            self.lose_answer -= 1
            raise TimeoutError("the answer never came")
        return f"m{len(self.posts)}"

    async def update(self, ref: ConversationRef, message_id: str, reply: Reply) -> None:
        self.updates.append((message_id, reply))

    def questions(self, channel: str = "general") -> list[Reply]:
        return [r for c, t, r in self.posts if c == channel and t is None]

    def reveals(self, channel: str = "general") -> list[Reply]:
        return [r for c, t, r in self.posts if c == channel and t is not None]


class FindableOutbound(RecordingOutbound):
    """A platform that can say whether a keyed post landed (like Slack's message metadata)."""

    async def find(self, ref: ConversationRef, key: str, thread: str | None = None,
                   since: datetime | None = None) -> str | None:
        for index, (channel, posted_thread, _) in enumerate(self.posts):
            if channel == ref.channel and posted_thread == thread and self.keys[index] == key:
                return f"m{index + 1}"
        return None


MONDAY_0800_BERLIN = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


def make_core(kb: KnowledgeBase, db: Database, clock: Clock,
              outbound: RecordingOutbound) -> Core:
    settings = Settings(knowledge_dir=KNOWLEDGE, admins=frozenset({"lead"}))
    core = build_core(settings, kb, db=db, rng=random.Random(5), clock=clock)
    core.outbounds.add(outbound)
    return core


def ctx(user: str, admin: bool = False, channel: str = "general") -> Context:
    return Context(platform="console", tenant="T1", user=user, user_name=user.title(),
                   channel=channel, direct=False, is_admin=admin)


async def say(core: Core, context: Context, text: str) -> Reply:
    await core.remember(ConversationRef(context.platform, context.tenant, context.channel))
    [reply] = await core.router.handle(Message(context, text))
    return reply


@pytest.fixture()
def clock() -> Clock:
    return Clock(MONDAY_0800_BERLIN)


@pytest.fixture()
def outbound() -> RecordingOutbound:
    return RecordingOutbound()


@pytest.fixture()
def core(kb: KnowledgeBase, db: Database, clock: Clock, outbound: RecordingOutbound) -> Core:
    return make_core(kb, db, clock, outbound)


async def test_only_admins_switch_it_on_and_everyone_sees_status(core: Core) -> None:
    refused = await say(core, ctx("bob"), "daily on 09:00 Europe/Berlin weekdays")
    assert refused.private and "only workspace admins" in refused.text
    assert "off for this channel" in (await say(core, ctx("bob"), "daily status")).text
    on = await say(core, ctx("ann", admin=True), "daily on 09:00 Europe/Berlin weekdays")
    assert "09:00 Europe/Berlin on weekdays, answer revealed 4 h later" in on.text
    assert "Monday 02 November, 09:00" in on.text
    listed = await say(core, ctx("lead"), "daily on 10:30 Europe/Berlin daily reveal 90m")
    assert "every day, answer revealed 1 h 30 min later" in listed.text, "AWS_QUIZ_ADMINS"
    status = await say(core, ctx("bob"), "daily status")
    assert "is **on**: 10:30 Europe/Berlin every day" in status.text
    assert "daily question is off" in (await say(core, ctx("ann", True), "daily off")).text


async def test_bad_arguments_get_a_clear_message(core: Core) -> None:
    reply = await say(core, ctx("ann", True), "daily on 09:00 Mars/Olympus")
    assert "not a time zone I know" in reply.text and "Europe/Berlin" in reply.text
    reply = await say(core, ctx("ann", True), "daily on at nine")
    assert "don't understand" in reply.text


async def test_posts_once_per_day_across_replicas_and_reveals_in_the_thread(
        kb: KnowledgeBase, db: Database, clock: Clock, outbound: RecordingOutbound,
        core: Core) -> None:
    await say(core, ctx("ann", True), "daily on 09:00 Europe/Berlin weekdays")
    assert (await core.daily.run_due())["posted"] == 0, "08:00 in Berlin: not yet"  # type: ignore[union-attr]
    clock.now += timedelta(hours=1, minutes=1)
    replica = make_core(kb, db, clock, outbound)  # a second process on the same database
    results = await asyncio.gather(core.daily.run_due(), replica.daily.run_due())  # type: ignore[union-attr]
    assert sum(r["posted"] for r in results) == 1
    assert len(outbound.posts) == 1
    channel, thread, post = outbound.posts[0]
    assert channel == "general" and thread is None
    assert post.text.startswith("**Question of the day**")
    assert "revealed in the thread at 13:01 (Europe/Berlin)" in post.text
    assert "0 people have answered" in post.text
    assert not post.private and post.choices

    # Answers are private, count once, and only the count shows publicly.
    post_id, _ = post.choices[0].value.split(":")
    question = kb.questions[(await core.daily.store.post(post_id)).question_id]  # type: ignore[union-attr]
    right = next(c for c in post.choices if int(c.value.split(":")[1]) in question.answer)
    wrong = next(c for c in post.choices if int(c.value.split(":")[1]) not in question.answer)
    for user, choice in (("bob", right), ("cat", wrong), ("dan", right)):
        [feedback] = await core.router.handle_action(Action(ctx(user), choice.action_id,
                                                            choice.value))
        assert feedback.private
    assert "✅" in feedback.text and question.explanation not in feedback.text
    [again] = await core.router.handle_action(Action(ctx("bob"), wrong.action_id, wrong.value))
    assert "already answered" in again.text
    message_id, updated = outbound.updates[-1]
    assert message_id == "m1" and "3 people have answered" in updated.text
    for text in (question.explanation, "Answer:"):
        assert text not in updated.text

    # The reveal comes once, in the thread, at the reveal time.
    clock.now += timedelta(hours=3, minutes=58)
    assert (await core.daily.run_due())["revealed"] == 0  # type: ignore[union-attr]
    clock.now += timedelta(minutes=3)
    counts = await asyncio.gather(core.daily.run_due(), replica.daily.run_due())  # type: ignore[union-attr]
    assert sum(c["revealed"] for c in counts) == 1
    _, thread, reveal = outbound.posts[-1]
    assert thread == "m1"
    assert question.options[question.answer[0]].text in reveal.text
    assert question.explanation in reveal.text
    assert "2 of 3 answered correctly (67 %)" in reveal.text
    assert "First correct: Bob, Dan." in reveal.text
    assert "leaderboard" not in reveal.text, "only on Fridays"
    assert "answer is in the thread" in outbound.updates[-1][1].text
    assert not outbound.updates[-1][1].choices, "buttons go once the answer is out"
    [late] = await core.router.handle_action(Action(ctx("eve"), right.action_id, right.value))
    assert "already been revealed" in late.text

    # Daily answers count toward the learner's own stats.
    [stats] = await core.router.handle(Message(ctx("bob"), "stats"))
    assert "Answered: **1** · correct: **1**" in stats.text


async def test_weekdays_skip_weekends_catch_up_same_day_and_skip_stale_days(
        core: Core, clock: Clock, outbound: RecordingOutbound) -> None:
    await say(core, ctx("ann", True), "daily on 09:00 Europe/Berlin weekdays")
    clock.now = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)  # Saturday
    assert (await core.daily.run_due())["posted"] == 0  # type: ignore[union-attr]
    clock.now = datetime(2026, 11, 9, 15, 30, tzinfo=UTC)  # Monday, after downtime
    assert (await core.daily.run_due())["posted"] == 1  # type: ignore[union-attr]
    assert (await core.daily.run_due())["posted"] == 0  # type: ignore[union-attr]
    assert len(outbound.posts) == 1, "the missed Friday was not posted late"


async def test_a_failed_post_is_retried_later_the_same_day(
        core: Core, clock: Clock, outbound: RecordingOutbound) -> None:
    await say(core, ctx("ann", True), "daily on 09:00 Europe/Berlin daily")
    clock.now += timedelta(hours=2)
    outbound.fail_next = True
    assert (await core.daily.run_due())["failed"] == 1  # type: ignore[union-attr]
    assert (await core.daily.run_due())["posted"] == 1  # type: ignore[union-attr]


async def test_questions_rotate_modules_and_do_not_repeat_and_fridays_add_a_board(
        kb: KnowledgeBase, core: Core, clock: Clock, outbound: RecordingOutbound) -> None:
    await say(core, ctx("ann", True), "daily on 09:00 UTC daily reveal 1h")
    seen_questions, modules = [], []
    for day in range(12):
        clock.now = datetime(2026, 11, 2 + day, 9, 5, tzinfo=UTC)
        await core.daily.run_due()  # type: ignore[union-attr]
        _, _, post = outbound.posts[-1]
        post_id = post.choices[0].value.split(":")[0]
        stored = await core.daily.store.post(post_id)  # type: ignore[union-attr]
        seen_questions.append(stored.question_id)
        modules.append(stored.module)
        first = post.choices[0]
        await core.router.handle_action(Action(ctx("bob"), first.action_id, first.value))
        clock.now += timedelta(hours=1, minutes=1)
        await core.daily.run_due()  # type: ignore[union-attr]
        _, thread, reveal = outbound.posts[-1]
        assert thread is not None
        weekday = clock.now.weekday()
        assert ("This week's leaderboard" in reveal.text) == (weekday == 4), clock.now
    assert len(set(seen_questions)) == 12
    assert all(a != b for a, b in zip(modules, modules[1:], strict=False))
    friday_reveal = [r for _, t, r in outbound.posts if t and "leaderboard" in r.text][0]
    assert "1. Bob:" in friday_reveal.text


# -- crashes and unknown outcomes ---------------------------------------------------------------

class DyingOutbound(FindableOutbound):
    """A replica about to die: its first `land` posts reach the platform, then every call hangs
    (after delivering, or before); the test then cancels it as `kill -9` would."""

    platform = "console"

    def __init__(self, platform: FindableOutbound, land: int) -> None:
        super().__init__()
        self.platform_side = platform
        self.land = land
        self.in_flight = 0

    async def post(self, ref: ConversationRef, reply: Reply, thread: str | None = None,
                   key: str | None = None) -> str:
        self.in_flight += 1
        if self.land > 0:
            self.land -= 1
            await self.platform_side.post(ref, reply, thread, key)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def subscribe_channels(core: Core, names: list[str]) -> None:
    for name in names:
        await say(core, ctx("ann", True, channel=name), "daily on 09:00 Europe/Berlin daily "
                                                        "reveal 1h")


async def die_mid_pass(kb: KnowledgeBase, db: Database, clock: Clock,
                       platform: FindableOutbound, land: int, in_flight: int = 16) -> None:
    """Run a pass in a replica that dies once `in_flight` of its calls are under way."""
    outbound = DyingOutbound(platform, land)
    dying = make_core(kb, db, clock, outbound)
    assert dying.daily is not None
    task = asyncio.create_task(dying.daily.run_due())
    for _ in range(3000):
        await asyncio.sleep(0.01)
        if outbound.in_flight >= in_flight:
            break
    assert outbound.in_flight == in_flight
    task.cancel()  # like kill -9: nothing is released, nothing more is written
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_replica_killed_mid_fan_out_leaves_every_channel_exactly_one_question_and_reveal(
        kb: KnowledgeBase, db: Database, clock: Clock) -> None:
    platform = FindableOutbound()
    survivor = make_core(kb, db, clock, platform)
    assert survivor.daily is not None
    channels = [f"c{i:02d}" for i in range(24)]
    await subscribe_channels(survivor, channels)
    clock.now += timedelta(hours=2)
    await die_mid_pass(kb, db, clock, platform, land=6)  # 6 landed, 10 more claimed, 8 never

    first = await survivor.daily.run_due()
    assert first["posted"] == 8, "claims of the dead replica hold until their lease runs out"
    clock.now += survivor.daily.lease + timedelta(seconds=1)
    second = await survivor.daily.run_due()
    assert second["posted"] == 16 and second["failed"] == 0
    assert all(len(platform.questions(c)) == 1 for c in channels), "no channel asked twice"
    assert (await survivor.daily.run_due())["posted"] == 0

    # The reveals: the dead replica's claim on some of them is taken over too.
    clock.now += timedelta(hours=1, minutes=1)
    await die_mid_pass(kb, db, clock, platform, land=5)
    clock.now += survivor.daily.lease + timedelta(seconds=1)
    await survivor.daily.run_due()
    assert [len(platform.reveals(c)) for c in channels] == [1] * len(channels)
    assert (await survivor.daily.run_due())["revealed"] == 0


async def test_an_unknown_outcome_is_checked_and_never_posted_twice(
        core: Core, clock: Clock, kb: KnowledgeBase, db: Database) -> None:
    platform = FindableOutbound()
    core.outbounds.add(platform)
    assert core.daily is not None
    await say(core, ctx("ann", True), "daily on 09:00 Europe/Berlin daily reveal 1h")
    clock.now += timedelta(hours=2)
    platform.lose_answer = 1  # Slack posted it, but the answer timed out
    assert (await core.daily.run_due())["failed"] == 1
    assert (await core.daily.run_due())["posted"] == 1, "found where it landed"
    assert len(platform.questions()) == 1
    [(post, _)] = [(p, k) for p, k in zip(platform.questions(), platform.keys, strict=False)]
    first = post.choices[0]
    [feedback] = await core.router.handle_action(Action(ctx("bob"), first.action_id, first.value))
    assert feedback.private and "already answered" not in feedback.text
    assert platform.updates and platform.updates[-1][0] == "m1", "the adopted post is updated"

    clock.now += timedelta(hours=1, minutes=1)
    platform.lose_answer = 1  # the reveal too
    assert (await core.daily.run_due())["failed"] == 1
    assert (await core.daily.run_due())["revealed"] == 1
    assert len(platform.reveals()) == 1 and platform.posts[-1][1] == "m1"
    assert "1 of 1 answered correctly" in platform.reveals()[0].text or \
        "0 of 1 answered correctly" in platform.reveals()[0].text


async def test_without_a_way_to_check_an_unknown_outcome_the_day_is_given_up_at_most_once(
        core: Core, clock: Clock, outbound: RecordingOutbound) -> None:
    assert core.daily is not None
    await say(core, ctx("ann", True), "daily on 09:00 Europe/Berlin daily")
    clock.now += timedelta(hours=2)
    outbound.lose_answer = 1
    await core.daily.run_due()
    clock.now += core.daily.lease * 2
    assert (await core.daily.run_due())["posted"] == 0
    assert len(outbound.questions()) == 1, "at most once: never a second question"
    status = await say(core, ctx("bob"), "daily status")
    assert "may not have arrived" in status.text and "never posted twice" in status.text
    clock.now += timedelta(days=1)
    assert (await core.daily.run_due())["posted"] == 1, "the next day is a new day"


# -- the first post day, reveal delays, reported questions ---------------------------------------

WEDNESDAY_0213_BERLIN = datetime(2026, 12, 2, 1, 13, tzinfo=UTC)


async def test_daily_on_after_todays_time_says_today_and_the_next_pass_posts_today(
        core: Core, clock: Clock, outbound: RecordingOutbound) -> None:
    """The walkthrough: at 02:13 Berlin, `daily on 02:00` said Thursday but posted at once."""
    assert core.daily is not None
    clock.now = WEDNESDAY_0213_BERLIN
    on = await say(core, ctx("ann", True), "daily on 02:00 Europe/Berlin daily reveal 10m")
    assert "First one: today (catching up now" in on.text
    assert "then Thursday 03 December, 02:00 (Europe/Berlin)" in on.text
    status = await say(core, ctx("bob"), "daily status")
    assert "Next: today (catching up now), then Thu 03 Dec 02:00" in status.text
    assert (await core.daily.run_due())["posted"] == 1, "the promise is kept: posted today"
    [question] = outbound.questions()
    assert "revealed in the thread at 02:23 (Europe/Berlin)" in question.text
    status = await say(core, ctx("bob"), "daily status")
    assert "Next: Thu 03 Dec 02:00." in status.text and "catching up" not in status.text
    again = await say(core, ctx("ann", True), "daily on 02:00 Europe/Berlin daily reveal 10m")
    assert "First one: Thursday 03 December, 02:00" in again.text, "today's is already out"
    assert (await core.daily.run_due())["posted"] == 0


async def test_daily_on_before_todays_time_or_on_a_weekend_names_the_day_it_posts(
        core: Core, clock: Clock, outbound: RecordingOutbound) -> None:
    assert core.daily is not None
    clock.now = WEDNESDAY_0213_BERLIN - timedelta(minutes=14)  # 01:59 in Berlin
    on = await say(core, ctx("ann", True), "daily on 02:00 Europe/Berlin daily")
    assert "First one: Wednesday 02 December, 02:00 (Europe/Berlin)." in on.text
    assert "catching up" not in on.text
    assert (await core.daily.run_due())["posted"] == 0
    clock.now += timedelta(minutes=1)
    assert (await core.daily.run_due())["posted"] == 1

    weekend = ctx("ann", True, channel="weekend")
    clock.now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # Saturday, after 09:00
    on = await say(core, weekend, "daily on 09:00 Europe/Berlin weekdays")
    assert "First one: Monday 07 December, 09:00" in on.text and "catching up" not in on.text
    await core.daily.run_due()
    assert outbound.questions("weekend") == [], "no weekday question on a Saturday"


async def test_reveal_delays_read_minutes_hours_and_both(core: Core) -> None:
    admin = ctx("ann", True)
    for typed, described in (("reveal 90m", "1 h 30 min"), ("reveal 4h", "4 h"),
                             ("reveal 1h30m", "1 h 30 min"), ("reveal 1h 30m", "1 h 30 min"),
                             ("reveal 45 min", "45 min"), ("reveal 2 hours", "2 h")):
        on = await say(core, admin, f"daily on 09:00 Europe/Berlin {typed} weekdays")
        assert f"answer revealed {described} later" in on.text, (typed, on.text)
        assert "on weekdays" in on.text, "the word after the delay is still read"
    for typed in ("reveal 90", "reveal soon"):
        refused = await say(core, admin, f"daily on 09:00 {typed}")
        assert refused.private and "can't read the reveal delay" in refused.text
        assert "`reveal 1h30m`" in refused.text
    short = await say(core, admin, "daily on 09:00 reveal 5m")
    assert "between 10 minutes and 23 hours" in short.text


async def test_questions_with_open_reports_are_never_the_daily_question(
        kb: KnowledgeBase, core: Core, clock: Clock, outbound: RecordingOutbound) -> None:
    assert core.daily is not None
    eligible = sorted(q.id for q in kb.questions.values() if q.kind in ("single", "truefalse"))
    keep = eligible[len(eligible) // 2]
    asked: list[int] = []

    async def reported() -> set[str]:
        asked.append(1)
        return set(eligible) - {keep}

    core.daily.excluded_questions = reported
    await say(core, ctx("ann", True), "daily on 09:00 UTC daily reveal 1h")
    chosen = []
    for day in range(3):  # the one unreported question, even after it was used recently
        clock.now = datetime(2026, 11, 2 + day, 9, 5, tzinfo=UTC)
        assert (await core.daily.run_due())["posted"] == 1
        post_id = outbound.questions()[-1].choices[0].value.split(":")[0]
        chosen.append((await core.daily.store.post(post_id)).question_id)  # type: ignore[union-attr]
    assert chosen == [keep] * 3 and asked

    async def broken() -> set[str]:
        raise ConnectionError("reports table unavailable")

    core.daily.excluded_questions = broken
    clock.now = datetime(2026, 11, 6, 9, 5, tzinfo=UTC)
    assert (await core.daily.run_due())["posted"] == 1, "a failing hook never stops the post"

    assert core.daily.choose_question([], excluded=set(eligible)) is None, \
        "everything reported: no question rather than a reported one"


async def test_the_friday_board_never_names_anyone_without_a_right_answer(
        kb: KnowledgeBase, core: Core, clock: Clock, outbound: RecordingOutbound) -> None:
    await say(core, ctx("ann", True), "daily on 09:00 UTC daily reveal 1h")
    for day in range(5):  # Monday 2 to Friday 6 November
        clock.now = datetime(2026, 11, 2 + day, 9, 5, tzinfo=UTC)
        await core.daily.run_due()  # type: ignore[union-attr]
        _, _, post = outbound.posts[-1]
        stored = await core.daily.store.post(post.choices[0].value.split(":")[0])  # type: ignore[union-attr]
        question = kb.questions[stored.question_id]
        for choice in post.choices:
            option = int(choice.value.split(":")[1])
            who = "bob" if option in question.answer else "zed"  # bob right, zed wrong
            await core.router.handle_action(Action(ctx(who), choice.action_id, choice.value))
        clock.now += timedelta(hours=1, minutes=1)
        await core.daily.run_due()  # type: ignore[union-attr]
    friday = outbound.reveals()[-1]
    assert "This week's leaderboard" in friday.text
    assert "Bob: 5/5 correct" in friday.text
    assert "Zed" not in friday.text, "nobody at 0 % is named"


async def test_a_post_whose_question_left_the_bank_is_closed_not_retried(
        kb: KnowledgeBase, core: Core, clock: Clock, outbound: RecordingOutbound) -> None:
    await say(core, ctx("ann", True), "daily on 09:00 UTC daily reveal 1h")
    clock.now = datetime(2026, 11, 2, 9, 5, tzinfo=UTC)
    await core.daily.run_due()  # type: ignore[union-attr]
    _, _, post = outbound.posts[-1]
    stored = await core.daily.store.post(post.choices[0].value.split(":")[0])  # type: ignore[union-attr]
    smaller = {q: v for q, v in kb.questions.items() if q != stored.question_id}
    core.daily.kb = dataclasses.replace(kb, questions=smaller)  # type: ignore[union-attr]
    clock.now += timedelta(hours=2)
    counts = await core.daily.run_due()  # type: ignore[union-attr]
    assert counts["revealed"] == 0 and counts["failed"] == 0
    closed = await core.daily.store.post(stored.id)  # type: ignore[union-attr]
    assert closed.revealed_at is not None, "closed, so later passes leave it alone"
    assert outbound.reveals() == []
