"""The daily channel question: `daily on|off|status`, private answers, a reveal in the thread.

A channel admin subscribes a channel (`daily on 09:00 Europe/Berlin weekdays reveal 4h`). Each
scheduler pass (every replica runs one; `aws-quiz daily run-due` runs one for an external cron)
posts today's question where its local time has come, claiming the (subscription, local date)
row first so that exactly one post happens per channel per day; after downtime it catches up the
same day and never posts for a past day. A claim is a lease: a replica that dies mid fan-out
leaves claims that the next pass takes over once they expire. Before posting again after an
attempt whose outcome is unknown (a timeout, a 5xx), the pass asks the platform whether the
earlier post landed (Slack: message metadata read back through conversations.history); where it
cannot ask (Teams) it gives the day up instead, so a channel never gets a question twice.
Answers are private and count once per person (the answer and the learner's stats in one
transaction); the public message only shows how many have answered. At the reveal time the bot answers in the
thread with the correct option, the explanation, the share correct and the first correct
answerers, plus the week's channel leaderboard on Fridays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import telemetry
from bot.durations import parse_minutes
from bot.knowledge.schema import KnowledgeBase, Question
from bot.model import Action, Choice, ConversationRef, Message, Reply
from bot.ports import Findable, NotDelivered, Outbound, Outbounds, PermanentDeliveryError
from bot.quiz import memory
from bot.router import Router
from bot.store.dailystore import AlreadyAnswered, DailyAnswer, DailyStore, Post, Subscription
from bot.store.database import utcnow
from bot.store.quizstore import QuizStore
from bot.store.refstore import RefStore
from bot.text import escape_md, small_number

log = logging.getLogger(__name__)

ANSWER_ACTION = "daily.answer"
LETTERS = "ABCDEFGH"
NO_REPEAT_DAYS = 60
DEFAULT_TIME = "09:00"
DEFAULT_TZ = "UTC"
DEFAULT_REVEAL_MINUTES = 240
DEFAULT_LEASE = timedelta(seconds=120)
UNCONFIRMED = "unconfirmed"
SETTLE = timedelta(seconds=10)  # a cancelled call may still land: check it only after this
TIME_RE = re.compile(r"^([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])$")


@dataclass(frozen=True)
class DailySettings:
    """What `daily on ...` asked for."""

    post_time: str
    timezone: str
    days: str
    reveal_minutes: int


class DailyArgsError(ValueError):
    """`daily on` arguments that cannot be understood; the message says why."""


def parse_daily_on(words: list[str]) -> DailySettings:
    """`[HH:MM] [Area/City] [weekdays|daily] [reveal 2h]`, in any order."""
    post_time, tz, days, reveal = DEFAULT_TIME, DEFAULT_TZ, "weekdays", DEFAULT_REVEAL_MINUTES
    index = 0
    while index < len(words):
        word = words[index]
        lower = word.lower()
        if (match := TIME_RE.match(lower)) is not None:
            post_time = f"{int(match.group(1)):02d}:{match.group(2)}"
        elif lower in ("weekdays", "daily", "everyday", "every-day"):
            days = "weekdays" if lower == "weekdays" else "daily"
        elif lower == "reveal" and index + 1 < len(words):
            index += 1
            pair = " ".join(words[index:index + 2])  # `reveal 1h 30m`, `reveal 90 min`
            minutes = parse_minutes(pair) if index + 1 < len(words) else None
            if minutes is not None:
                index += 1
            else:
                minutes = parse_minutes(words[index])
            if minutes is None:
                raise DailyArgsError(f"I can't read the reveal delay \"{escape_md(words[index])}\"; "
                                     "use minutes or hours, e.g. `reveal 90m`, `reveal 4h` or "
                                     "`reveal 1h30m`.")
            reveal = minutes
            if not 10 <= reveal <= 23 * 60:
                raise DailyArgsError("The reveal delay must be between 10 minutes and 23 hours.")
        elif "/" in word or lower == "utc":
            try:
                ZoneInfo(word if lower != "utc" else "UTC")
            except (ZoneInfoNotFoundError, ValueError):
                raise DailyArgsError(f"\"{escape_md(word)}\" is not a time zone I know; use an "
                                     "IANA name such as `Europe/Berlin` or `America/New_York`."
                                     ) from None
            tz = word if lower != "utc" else "UTC"
        else:
            raise DailyArgsError(f"I don't understand \"{escape_md(word)}\". Usage: `daily on "
                                 "[HH:MM] [Area/City] [weekdays|daily] [reveal 4h]`.")
        index += 1
    return DailySettings(post_time, tz, days, reveal)


def due_today(sub: Subscription, now: datetime) -> str | None:
    """The channel's local date when today is a post day and its post time has come, else None.

    The scheduler posts today's question on any pass from then until local midnight (a late
    start or downtime is caught up the same day), so this is also what `daily on` promises.
    """
    local = now.astimezone(ZoneInfo(sub.timezone))
    hour, minute = (int(p) for p in sub.post_time.split(":"))
    if sub.days == "weekdays" and local.weekday() >= 5:
        return None
    if local.time() < time(hour, minute):
        return None
    return local.date().isoformat()


def next_post_time(sub: Subscription, now: datetime) -> datetime:
    """When the next question will be posted (local time), given the days setting."""
    zone = ZoneInfo(sub.timezone)
    local = now.astimezone(zone)
    hour, minute = (int(p) for p in sub.post_time.split(":"))
    day = local.date()
    for _ in range(8):
        candidate = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if candidate > local and (sub.days == "daily" or candidate.weekday() < 5):
            return candidate
        day += timedelta(days=1)
    return candidate


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


class DailyFeature:
    """Commands, the answer button and the scheduler pass of the daily channel question."""

    def __init__(self, kb: KnowledgeBase, store: DailyStore, quiz_store: QuizStore,
                 refs: RefStore, outbounds: Outbounds, admins: frozenset[str] = frozenset(),
                 rng: random.Random | None = None, clock: Callable[[], datetime] = utcnow,
                 lease: timedelta = DEFAULT_LEASE) -> None:
        self.kb = kb
        self.store = store
        self.quiz_store = quiz_store
        self.refs = refs
        self.outbounds = outbounds
        self.admins = admins
        self.rng = rng or random.Random()
        self.clock = clock
        self.lease = lease  # how long a claim to post or reveal holds before others take over
        self.concurrency = 16
        # Question ids never to post (those with open reports); the reports store provides it.
        self.excluded_questions: Callable[[], Awaitable[set[str]]] | None = None

    def register(self, router: Router) -> None:
        router.command("daily", "daily on [HH:MM] [Area/City] [weekdays|daily] | daily off | "
                       "daily status", "a channel's daily question (admins switch it on)",
                       self.cmd_daily)
        router.action(ANSWER_ACTION, self.on_answer)

    # -- commands ---------------------------------------------------------------------------

    async def cmd_daily(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        words = args.split()
        verb = words[0].lower() if words else "status"
        if ctx.direct:
            return [Reply("The daily question lives in a channel: run `daily on` (admins) or "
                          "`daily status` there.", private=True)]
        if verb == "status":
            return [await self._status(ctx.platform, ctx.tenant, ctx.channel)]
        if verb not in ("on", "off"):
            return [Reply("Usage: `daily on [HH:MM] [Area/City] [weekdays|daily] [reveal 4h]`, "
                          "`daily off`, `daily status`.", private=True)]
        if not (ctx.is_admin or ctx.user in self.admins):
            return [Reply("Sorry, only workspace admins and owners (or people listed in "
                          "AWS_QUIZ_ADMINS) can switch the daily question on or off. "
                          "`daily status` works for everyone.", private=True)]
        if verb == "off":
            changed = await self.store.unsubscribe(ctx.platform, ctx.tenant, ctx.channel)
            text = ("The daily question is off for this channel." if changed
                    else "The daily question was not on for this channel.")
            return [Reply(text)]
        try:
            wanted = parse_daily_on(words[1:])
        except DailyArgsError as exc:
            return [Reply(str(exc), private=True)]
        sub = await self.store.subscribe(ctx.platform, ctx.tenant, ctx.channel, wanted.post_time,
                                         wanted.timezone, wanted.days, wanted.reveal_minutes,
                                         ctx.user)
        now = self.clock()
        upcoming = next_post_time(sub, now)
        if await self.catching_up(sub, now):
            first = (f"First one: today (catching up now: today's {sub.post_time} has passed), "
                     f"then {upcoming:%A %d %B, %H:%M} ({sub.timezone}).")
        else:
            first = f"First one: {upcoming:%A %d %B, %H:%M} ({sub.timezone})."
        return [Reply(f"Daily question **on** for this channel: {self._describe(sub)}. {first}")]

    async def catching_up(self, sub: Subscription, now: datetime) -> bool:
        """True when the next scheduler pass will post today's question, late (see `due_today`)."""
        local_date = due_today(sub, now)
        if local_date is None:
            return False
        existing = await self.store.post_for_day(sub.id, local_date)
        return existing is None or (existing.message_id is None and existing.outcome is None)

    @staticmethod
    def _describe(sub: Subscription) -> str:
        days = "on weekdays" if sub.days == "weekdays" else "every day"
        hours, minutes = divmod(sub.reveal_minutes, 60)
        reveal = f"{hours} h" if not minutes else (f"{hours} h {minutes} min" if hours
                                                    else f"{minutes} min")
        return f"{sub.post_time} {sub.timezone} {days}, answer revealed {reveal} later"

    async def _status(self, platform: str, tenant: str, channel: str) -> Reply:
        sub = await self.store.subscription(platform, tenant, channel)
        if sub is None or not sub.enabled:
            return Reply("The daily question is off for this channel. An admin can switch it on "
                         "with `daily on 09:00 Europe/Berlin weekdays`.", private=True)
        posts = await self.store.posts(sub.id)
        delivered = [p for p in posts if p.message_id is not None]
        last = f" Last posted {delivered[-1].local_date}." if delivered else ""
        now = self.clock()
        upcoming = next_post_time(sub, now)
        when = f"{upcoming:%a %d %b %H:%M}"
        if await self.catching_up(sub, now):
            when = f"today (catching up now), then {when}"
        text = (f"Daily question is **on**: {self._describe(sub)}. Next: "
                f"{when}.{last} {len(delivered)} posted so far.")
        unsure = [p.local_date for p in posts[-7:] if p.outcome == UNCONFIRMED]
        if unsure:
            text += (f"\n_Not confirmed by {platform}: the question of {', '.join(unsure)} (or "
                     "its answer) may not have arrived. It is never posted twice, so it was not "
                     "sent again._")
        return Reply(text, private=True)

    # -- posting ----------------------------------------------------------------------------

    def _post_reply(self, post: Post, sub: Subscription, answered: int,
                    closed: bool = False) -> Reply:
        question = self.kb.questions[post.question_id]
        lines = [f"**Question of the day** · {post.module} › {question.section}", question.prompt]
        lines += [f"{LETTERS[p]}) {question.options[o].text}"
                  for p, o in enumerate(post.option_order)]
        people = f"{answered} {'person has' if answered == 1 else 'people have'} answered"
        if closed:
            lines.append(f"_{people}. The answer is in the thread._")
            return Reply("\n".join(lines))
        reveal = (post.reveal_at.astimezone(ZoneInfo(sub.timezone)).strftime("%H:%M")
                  if post.reveal_at else "later")
        lines.append(f"_Answers are private. The answer is revealed in the thread at {reveal} "
                     f"({sub.timezone}). {people}._")
        choices = tuple(Choice(ANSWER_ACTION, LETTERS[p], f"{post.id}:{o}")
                        for p, o in enumerate(post.option_order))
        return Reply("\n".join(lines), choices=choices)

    def choose_question(self, recent: list[Post],
                        excluded: AbstractSet[str] = frozenset()) -> Question | None:
        """A question not used here in 60 days, from the module after the last one used.

        `excluded` question ids (those with open reports) are never chosen, not even when every
        other question was used recently.
        """
        used = {p.question_id for p in recent}
        modules = list(dict.fromkeys(s.module for s in self.kb.sections))
        last_module = recent[-1].module if recent else None
        start = (modules.index(last_module) + 1) % len(modules) if last_module in modules else 0
        eligible = [q for q in self.kb.questions.values()
                    if q.kind in ("single", "truefalse") and q.id not in excluded]
        for offset in range(len(modules)):
            module = modules[(start + offset) % len(modules)]
            candidates = [q for q in eligible if self.kb.module_of(q.section) == module
                          and q.id not in used]
            if candidates:
                return self.rng.choice(sorted(candidates, key=lambda q: q.id))
        return self.rng.choice(eligible) if eligible else None

    async def _excluded(self) -> frozenset[str]:
        """Question ids the daily question must skip (open reports); none if the hook fails."""
        if self.excluded_questions is None:
            return frozenset()
        try:
            return frozenset(await self.excluded_questions())
        except Exception:  # noqa: BLE001 - a reports blip must not stop the channel's question
            log.warning("daily: could not read the excluded questions; choosing from all",
                        exc_info=True)
            return frozenset()

    async def run_due(self) -> dict[str, int]:
        """One scheduler pass: post what is due today, reveal what is due. Returns counts.

        Channels are handled concurrently (at most `concurrency` at once): a thousand channels
        must not wait for each other, and the per-channel pacing lives in the outbound port.
        """
        now = self.clock()
        counts = {"posted": 0, "revealed": 0, "failed": 0}
        limit = asyncio.Semaphore(self.concurrency)
        subs = await self.store.enabled()
        excluded = await self._excluded() if subs else frozenset()

        async def guarded(kind: str, key: str, work: Callable[[], Awaitable[bool]]) -> None:
            async with limit:
                try:
                    if await work():
                        counts[kind] += 1
                except Exception as exc:  # noqa: BLE001 - one channel must not stop the others
                    counts["failed"] += 1
                    telemetry.count("daily_posts" if kind == "posted" else "daily_reveals",
                                    outcome="failed")
                    if isinstance(exc, NotDelivered | TimeoutError):
                        log.warning("daily %s failed for %s: %s", kind, key,
                                    str(exc)[:200] or type(exc).__name__)
                    else:
                        log.exception("daily %s failed for %s", kind, key)

        await asyncio.gather(*(guarded("posted", f"subscription {sub.id}",
                                       partial(self._post_if_due, sub, now, excluded))
                               for sub in subs))
        await asyncio.gather(*(guarded("revealed", f"post {post.id}", partial(self._reveal, post))
                               for post in await self.store.due_reveals(now)))
        return counts

    async def _post_if_due(self, sub: Subscription, now: datetime,
                           excluded: AbstractSet[str] = frozenset()) -> bool:
        local_date = due_today(sub, now)
        if local_date is None:
            return False
        local = now.astimezone(ZoneInfo(sub.timezone))
        existing = await self.store.post_for_day(sub.id, local_date)
        if existing is not None and (existing.message_id is not None
                                     or existing.outcome is not None):
            return False  # posted today (or given up, at most once)
        if existing is not None and existing.lease_until is not None \
                and existing.lease_until > now:
            return False  # another pass holds today's claim
        outbound = self.outbounds.get(sub.platform)
        ref = await self.refs.get(sub.platform, sub.tenant, sub.channel)
        if outbound is None or ref is None:
            log.warning("daily post due but no %s connection or reference for channel %s",
                        sub.platform, sub.channel)
            return False
        if existing is not None:
            post = await self.store.take_over(existing, self.lease)
            if post is not None:
                log.info("daily: took over the unfinished post %s for %s channel %s",
                         post.id, sub.platform, sub.channel)
        else:
            recent = await self.store.posts(
                sub.id, (local.date() - timedelta(days=NO_REPEAT_DAYS)).isoformat())
            question = self.choose_question(recent, excluded)
            if question is None:
                return False
            order = list(range(len(question.options)))
            if question.kind != "truefalse":
                self.rng.shuffle(order)
            post = await self.store.claim_post(sub, local_date, question.id,
                                               self.kb.module_of(question.section), order,
                                               self.lease)
        if post is None:
            return False  # another replica claimed today's post first
        return await self._deliver_post(post, sub, ref, outbound, now)

    async def _deliver_post(self, post: Post, sub: Subscription, ref: ConversationRef,
                            outbound: Outbound, now: datetime) -> bool:
        try:
            return await self._deliver_post_once(post, sub, ref, outbound, now)
        except asyncio.CancelledError:  # the process is stopping: hand the claim on now
            with contextlib.suppress(Exception):
                await self.store.release_post(post, delivered_nothing=False, hold=SETTLE)
            raise

    async def _deliver_post_once(self, post: Post, sub: Subscription, ref: ConversationRef,
                                 outbound: Outbound, now: datetime) -> bool:
        """Post today's question exactly once: check an earlier unknown attempt before posting.

        An attempt is written down before the platform is called. If an earlier holder's
        attempt has no message id, its outcome is unknown: where the platform can be asked
        (`Findable`), the post is looked for and adopted when it landed; where it cannot
        (Teams), the day is given up rather than risk a second question (at most once).
        """
        key = f"daily:{post.id}"
        reveal_minutes = timedelta(minutes=sub.reveal_minutes)
        if post.attempted_at is not None:
            if not isinstance(outbound, Findable):
                return await self._give_up(post, sub, "an earlier attempt's outcome is unknown")
            try:
                found = await outbound.find(ref, key, since=post.attempted_at)
            except Exception:
                await self.store.release_post(post, delivered_nothing=False)
                raise
            if found is not None:
                await self.store.mark_posted(post.id, found, post.attempted_at + reveal_minutes,
                                             posted_at=post.attempted_at)
                log.info("daily: post %s had landed (%s); not posting it again", post.id, found)
                return True
        if not await self.store.mark_attempt(post, self.lease):
            return False  # the claim was taken over meanwhile
        reveal_at = (post.attempted_at or now) + reveal_minutes
        shown = replace(post, message_id=None, posted_at=now, reveal_at=reveal_at)
        try:
            async with asyncio.timeout(self.lease.total_seconds() / 2):
                message_id = await outbound.post(ref, self._post_reply(shown, sub, 0), key=key)
        except PermanentDeliveryError as exc:
            await self.store.release_post(post, delivered_nothing=True)
            await self.store.unsubscribe(sub.platform, sub.tenant, sub.channel)
            log.warning("daily question switched off for %s channel %s: the platform refuses "
                        "posts there (%s); invite the bot and run `daily on` again",
                        sub.platform, sub.channel, exc)
            return False
        except NotDelivered:
            await self.store.release_post(post, delivered_nothing=True)
            raise
        except Exception as exc:
            if not isinstance(outbound, Findable):
                return await self._give_up(post, sub, f"the post's outcome is unknown "
                                                      f"({type(exc).__name__})")
            await self.store.release_post(post, delivered_nothing=False)
            raise
        await self.store.mark_posted(post.id, message_id, reveal_at, posted_at=now)
        telemetry.count("daily_posts", platform=sub.platform, outcome="posted")
        return True

    async def _give_up(self, post: Post, sub: Subscription, why: str) -> bool:
        """At most once: a post that may have landed is never sent again on this platform."""
        await self.store.give_up_post(post, UNCONFIRMED)
        telemetry.count("daily_posts", platform=sub.platform, outcome="unconfirmed")
        log.warning("daily: %s for post %s in %s channel %s; %s cannot say whether it landed, "
                    "so it is not posted again today (at most once; `daily status` tells the "
                    "channel's admins)", why, post.id, sub.platform, sub.channel, sub.platform)
        return False

    # -- answers ----------------------------------------------------------------------------

    async def on_answer(self, action: Action) -> list[Reply]:
        ctx = action.context
        post_id, _, raw = action.value.partition(":")
        post = await self.store.post(post_id) if post_id else None
        sub = await self.store.subscription_by_id(post.subscription_id) if post else None
        option = small_number(raw, max_digits=2)  # button values are not trusted
        if post is None or sub is None or sub.tenant != ctx.tenant or option is None:
            return [Reply("That daily question is no longer available.", private=True)]
        question = self.kb.questions.get(post.question_id)
        if question is None or option not in post.option_order:
            return [Reply("That daily question is no longer available.", private=True)]
        if post.revealed_at is not None:
            return [Reply("The answer to that question has already been revealed in the "
                          "thread. A new question comes tomorrow!", private=True)]
        correct = option in question.answer
        if not await self._record(ctx.tenant, ctx.user, ctx.user_name, post, question, option,
                                  correct):
            first = await self.store.answer_of(post.id, ctx.user)
            if first is None or first.chosen != option:
                return [Reply("You already answered today's question; your first answer is the "
                              "one that counts.", private=True)]
            # The same answer again (a retried delivery, a command finished by another
            # replica): the same feedback, nothing counted twice.
            return [self._feedback(question, post, option, correct,
                                   "_You already answered; your first answer is the one that "
                                   "counts._")]
        telemetry.count("answers", mode="daily", correct=correct)
        await self._refresh_count(post, sub)
        return [self._feedback(question, post, option, correct)]

    @staticmethod
    def _feedback(question: Question, post: Post, option: int, correct: bool,
                  note: str = "") -> Reply:
        letter = LETTERS[post.option_order.index(option)]
        verdict = "✅ **Correct!**" if correct else "❌ **Not quite.**"
        lines = [note] if note else []
        lines += [f"{verdict} You chose {letter}) {question.options[option].text}.",
                  question.options[option].why,
                  "The answer and the explanation are revealed in the thread later; keep it to "
                  "yourself until then!"]
        return Reply("\n".join(lines), private=True)

    async def _record(self, tenant: str, user: str, name: str, post: Post, question: Question,
                      option: int, correct: bool) -> bool:
        """The daily answer and everything it counts toward (the learner, a showing, the answer
        in their stats, their review card) in one transaction; False if they had answered."""
        now = self.clock()
        rating = memory.rating_for(correct)
        try:
            async with self.store.transaction() as conn:
                await self.store.answer(post.id, user, name, option, correct, conn=conn)
                await self.quiz_store.touch_user(tenant, user, name, conn=conn)
                showing = await self.quiz_store.show(tenant, user, question.id, "daily",
                                                     list(post.option_order), conn=conn)
                await self.quiz_store.record_answer(
                    showing, (option,), correct, post.module, None, None, now,
                    review=lambda card: memory.review(card, rating, now), conn=conn)
        except AlreadyAnswered:
            return False  # (post, user) exists: nothing of this attempt was written
        return True

    async def _refresh_count(self, post: Post, sub: Subscription) -> None:
        outbound = self.outbounds.get(sub.platform)
        ref = await self.refs.get(sub.platform, sub.tenant, sub.channel)
        if outbound is None or ref is None or post.message_id is None:
            return
        answered = len(await self.store.answers(post.id))
        try:
            await outbound.update(ref, post.message_id, self._post_reply(post, sub, answered))
        except Exception:  # noqa: BLE001 - the count is cosmetic; the answer is stored
            log.warning("could not update the daily post %s", post.id, exc_info=True)

    # -- reveal -----------------------------------------------------------------------------

    async def _reveal(self, post: Post) -> bool:
        sub = await self.store.subscription_by_id(post.subscription_id)
        question = self.kb.questions.get(post.question_id)
        if sub is not None and question is None and post.message_id is not None:
            # the question left the bank (a knowledge reload or a deploy): close the post
            # instead of trying again on every pass
            await self.store.mark_revealed(post.id, None, outcome="retired")
            log.warning("daily: post %s asked question %s, which is no longer in the question "
                        "bank; closed without a reveal", post.id, post.question_id)
            telemetry.count("daily_reveals", platform=sub.platform, outcome="retired")
            return False
        if sub is None or question is None or post.message_id is None:
            return False
        outbound = self.outbounds.get(sub.platform)
        ref = await self.refs.get(sub.platform, sub.tenant, sub.channel)
        if outbound is None or ref is None:
            return False
        claim = await self.store.claim_reveal(post.id, self.lease)
        if claim is None:
            return False
        try:
            return await self._reveal_claimed(claim, sub, question, ref, outbound)
        except asyncio.CancelledError:  # the process is stopping: hand the claim on now
            with contextlib.suppress(Exception):
                await self.store.release_reveal(claim, delivered_nothing=False, hold=SETTLE)
            raise

    async def _reveal_claimed(self, claim: Post, sub: Subscription, question: Question,
                              ref: ConversationRef, outbound: Outbound) -> bool:
        post = claim
        assert claim.message_id is not None
        key = f"daily:{post.id}:reveal"
        answers = await self.store.answers(post.id)
        if claim.reveal_attempted_at is not None:  # an earlier reveal's outcome is unknown
            if not isinstance(outbound, Findable):
                await self.store.mark_revealed(post.id, None, outcome=UNCONFIRMED)
                telemetry.count("daily_reveals", platform=sub.platform, outcome="unconfirmed")
                log.warning("daily: the reveal of post %s may not have landed in %s channel %s; "
                            "not posting it again (at most once)", post.id, sub.platform,
                            sub.channel)
                return False
            try:
                found = await outbound.find(ref, key, thread=claim.message_id)
            except Exception:
                await self.store.release_reveal(claim, delivered_nothing=False)
                raise
            if found is not None:
                await self.store.mark_revealed(post.id, found)
                await self._close(post, sub, ref, outbound, len(answers))
                return True
        if not await self.store.mark_reveal_attempt(claim, self.lease):
            return False
        try:
            reveal = await self._reveal_reply(post, sub, question, answers)
            async with asyncio.timeout(self.lease.total_seconds() / 2):
                message_id = await outbound.post(ref, reveal, thread=claim.message_id, key=key)
        except PermanentDeliveryError as exc:
            await self.store.mark_revealed(post.id, None, outcome="refused")
            log.warning("daily: %s channel %s refuses the reveal of post %s (%s)", sub.platform,
                        sub.channel, post.id, exc)
            return False
        except NotDelivered:
            await self.store.release_reveal(claim, delivered_nothing=True)
            raise
        except Exception as exc:
            if not isinstance(outbound, Findable):
                await self.store.mark_revealed(post.id, None, outcome=UNCONFIRMED)
                telemetry.count("daily_reveals", platform=sub.platform, outcome="unconfirmed")
                log.warning("daily: the reveal of post %s in %s channel %s has an unknown "
                            "outcome (%s); not posting it again (at most once)", post.id,
                            sub.platform, sub.channel, type(exc).__name__)
                return False
            await self.store.release_reveal(claim, delivered_nothing=False)
            raise
        await self.store.mark_revealed(post.id, message_id)
        telemetry.count("daily_reveals", platform=sub.platform, outcome="revealed")
        await self._close(post, sub, ref, outbound, len(answers))
        return True

    async def _close(self, post: Post, sub: Subscription, ref: ConversationRef,
                     outbound: Outbound, answered: int) -> None:
        """Take the buttons off the question once its answer is out (cosmetic: best effort)."""
        assert post.message_id is not None
        try:
            await outbound.update(ref, post.message_id,
                                  self._post_reply(post, sub, answered, closed=True))
        except Exception:  # noqa: BLE001
            log.warning("could not close the daily post %s", post.id, exc_info=True)

    async def _reveal_reply(self, post: Post, sub: Subscription, question: Question,
                            answers: list[DailyAnswer]) -> Reply:
        correct_option = question.answer[0]
        letter = LETTERS[post.option_order.index(correct_option)]
        right = [a for a in answers if a.correct]
        lines = [f"**Answer:** {letter}) {question.options[correct_option].text}",
                 question.explanation]
        if answers:
            share = round(100 * len(right) / len(answers))
            lines.append(f"{len(right)} of {len(answers)} answered correctly ({share} %).")
            if right:
                lines.append("First correct: " + ", ".join(escape_md(a.user_name)
                                                           for a in right[:3]) + ".")
        else:
            lines.append("Nobody answered this time.")
        lines.append(f"Read more: `ask {question.entry}`")
        if date.fromisoformat(post.local_date).weekday() == 4:
            lines += await self._week_board(sub, date.fromisoformat(post.local_date))
        return Reply("\n".join(lines), choices=(Choice("ask.entry", "Read more",
                                                       question.entry),))

    async def _week_board(self, sub: Subscription, day: date) -> list[str]:
        posts = await self.store.posts(sub.id, _week_start(day).isoformat())
        score: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        names: dict[str, str] = {}
        for post in posts:
            for answer in await self.store.answers(post.id):
                score[answer.user_id][0] += answer.correct
                score[answer.user_id][1] += 1
                names[answer.user_id] = answer.user_name
        # the same rule as `leaderboard`: nobody without a right answer is named, top five only
        scored = [(user, cn) for user, cn in score.items() if cn[0] > 0]
        if not scored:
            return []
        ranked = sorted(scored, key=lambda kv: (-kv[1][0], -kv[1][0] / kv[1][1],
                                                names[kv[0]].lower()))
        lines = ["**This week's leaderboard**"]
        lines += [f"{rank}. {escape_md(names[user])}: {c}/{n} correct"
                  for rank, (user, (c, n)) in enumerate(ranked[:5], start=1)]
        return lines

