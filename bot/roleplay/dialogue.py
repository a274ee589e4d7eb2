"""The role-play conversation: the bot plays a customer, the learner answers, each reply is graded.

A state machine, stored as JSON in the learner's open session:

- **opening**: the customer has voiced the objection. The learner's reply is graded against it.
  An open, on-topic clarifying question makes the customer reveal the concern hidden behind
  the objection (next state **concern**); any other reply brings the first pushback (next state
  **pushback 0**).
- **concern**: the customer has said what really bothers them; the reply is graded against
  that, then the first pushback follows.
- **pushback i**: "that's what every vendor says". A good clarifying question here still
  reveals the hidden concern if it is not out yet; otherwise pushback i+1 follows, and after
  the last pushback the meeting ends with a scorecard.
- Absolutes, jargon, dismissive phrasing and monologues raise the customer's frustration; at
  the persona's limit (easy 4, medium 3, hard 2) the customer ends the meeting early.
- `hint` suggests what the current turn needs (a question to ask, the point that answers this
  customer's objection, concern or pushback, and a close), `restart` starts the same customer
  again, `end` shows the scorecard now. A line that is exactly another command (`stats`, `quiz
  networking`, `review`, `topics`) runs that command and leaves the role-play open; every other
  line typed in the DM is a reply, even one that starts with a command word ("Review the numbers
  with me").
- A session idle longer than the configured time expires. Two deliveries of the same reply
  cannot both advance it: each write checks the version it read.

The scorecard averages each criterion over the turns, gives the total and band, strengths, what
to practise, and the model answers; the score rates the learner's spaced-repetition card for
this scenario (under 50 Again, 50-69 Hard, 70-89 Good, 90+ Easy) so `review` brings weak
objections back.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fsrs import Rating

from bot import telemetry
from bot.answers import ASK_ACTION
from bot.knowledge.schema import KnowledgeBase
from bot.model import Action, Choice, Context, Field, Message, Reply
from bot.quiz import memory
from bot.roleplay.coaching import hint_lines
from bot.roleplay.grader import (
    Grade,
    band_for,
    grade,
    is_good_clarifying_question,
    keep_start_stop,
    raises_frustration,
)
from bot.roleplay.scenarios import DIFFICULTIES, TOPICS, Scenario, default_scenario
from bot.router import Router
from bot.store.database import utcnow
from bot.store.quizstore import QuizStore
from bot.store.roleplaystore import RoleplayStore, Session
from bot.text import escape_md

CONTINUE_ACTION = "roleplay.continue"
REPLACE_ACTION = "roleplay.replace"
CONTROL_ACTION = "roleplay.control"
FRUSTRATION_LIMIT = {"easy": 4, "medium": 3, "hard": 2}
CARD_PREFIX = "scenario:"
MODULE = "Presenting solutions"
NOT_FORMER = {"single sign-on", "quick start", "quick starts"}
# Arguments a command line may carry: numbers, times ("07:30"), durations ("30m"), a time zone
# ("Europe/Paris") and the literal words of the commands' usage lines.
_ARGUMENT_RE = re.compile(r"^(?:\d+|\d{1,2}:\d{2}|\d+\s?(?:m|min|mins|minutes|h)|[A-Za-z_]+/[A-Za-z_/+-]+)$")
_ARGUMENT_WORDS = frozenset({"on", "off", "status", "weekdays", "daily", "easy", "medium", "hard",
                             *TOPICS})
_FREE_TEXT_COMMANDS = frozenset({"ask", "roleplay"})


def former_name_map(kb: KnowledgeBase) -> dict[str, str]:
    """Outdated service names -> current titles, for the grader's former-name penalty.

    Lower-case typos ("lamda") and generic phrases ("single sign-on") are not names a customer
    would hear as outdated, so they are left out.
    """
    names: dict[str, str] = {}
    for entry in kb.entries.values():
        for old in entry.former_names:
            if old.lower() in NOT_FORMER or old == old.lower():
                continue
            names[old] = entry.title
    return names


def rating_for_score(score: int) -> Rating:
    if score < 50:
        return Rating.Again
    if score < 70:
        return Rating.Hard
    if score < 90:
        return Rating.Good
    return Rating.Easy


class RoleplayFeature:
    """The `roleplay` command, the DM conversation and the scorecard."""

    def __init__(self, kb: KnowledgeBase, scenarios: dict[str, Scenario], store: RoleplayStore,
                 quiz_store: QuizStore, idle_minutes: int = 30, rng: random.Random | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.kb = kb
        self.scenarios = scenarios
        self.store = store
        self.quiz_store = quiz_store
        self.idle = timedelta(minutes=idle_minutes)
        self.rng = rng or random.Random()
        self.clock = clock
        self.former_names = former_name_map(kb)
        self.router: Router | None = None
        self.scope_labels = {label for d in kb.domains for label in
                             (d.id.replace("-", " "), d.title.lower())}
        self.scope_labels |= {s.module.lower() for s in kb.sections}
        self.scope_labels |= {s.name.lower() for s in kb.sections}

    def register(self, router: Router) -> None:
        self.router = router
        router.command("roleplay", "roleplay [security|cost|scalability] [easy|medium|hard]",
                       "practise a customer objection in a DM, with graded feedback",
                       self.cmd_roleplay)
        router.intercept(self.on_text)
        router.action(CONTINUE_ACTION, self.on_continue)
        router.action(REPLACE_ACTION, self.on_replace)
        router.action(CONTROL_ACTION, self.on_control)

    # -- starting ---------------------------------------------------------------------------

    async def cmd_roleplay(self, message: Message, args: str) -> list[Reply]:
        ctx = message.context
        words = args.lower().split()
        if not words:
            return [Reply("Which objection do you want to practise? The customer will push back "
                          "on one of these:", private=True, choices=tuple(
                              Choice("run", topic.title(), f"roleplay {topic}")
                              for topic in TOPICS))]
        open_session = await self._live_session(ctx)
        if open_session is not None:
            scenario = self.scenarios.get(open_session.scenario_id)
            name = scenario.persona.name if scenario else "a customer"
            return [Reply(f"You already have a role-play open with {name}. Continue it, or "
                          "start the new one (the open one ends without a score)?",
                          private=True, dm=not ctx.direct, choices=(
                              Choice(CONTINUE_ACTION, "Continue it", open_session.id),
                              Choice(REPLACE_ACTION, "Start the new one", args)))]
        return await self.start(ctx, words)

    def _choose(self, words: list[str], seen: set[str]) -> Scenario | str:
        """A scenario for `topic [difficulty]` or a scenario id; or the reason there is none."""
        if len(words) == 1 and words[0] in self.scenarios:
            return self.scenarios[words[0]]
        topic = next((w for w in words if w in TOPICS), None)
        difficulty = next((w for w in words if w in DIFFICULTIES), None)
        unknown = [w for w in words if w not in TOPICS and w not in DIFFICULTIES]
        if topic is None or unknown:
            return ("Usage: `roleplay [security|cost|scalability] [easy|medium|hard]`, "
                    "for example `roleplay cost hard`.")
        pool = [s for s in self.scenarios.values() if s.topic == topic
                and (difficulty is None or s.difficulty == difficulty)]
        if not pool:
            return f"There is no {difficulty} {topic} scenario yet; try another difficulty."
        fresh = [s for s in pool if s.id not in seen]
        default = default_scenario(self.scenarios, topic)
        if default in fresh:
            return default  # the topic's default customer plays first, as documented
        return self.rng.choice(sorted(fresh or pool, key=lambda s: s.id))

    async def start(self, ctx: Context, words: list[str]) -> list[Reply]:
        seen = {s.scenario_id for s in await self.store.finished(ctx.tenant, ctx.user)}
        chosen = self._choose(words, seen)
        if isinstance(chosen, str):
            return [Reply(chosen, private=True)]
        await self.quiz_store.touch_user(ctx.tenant, ctx.user, ctx.user_name)
        opening = self.rng.choice(chosen.opening)
        state = {"turn": "opening", "pushback": 0, "revealed": False, "frustration": 0,
                 "customer_line": opening, "history": []}
        await self.store.create(ctx.tenant, ctx.user, chosen.id, chosen.topic, state)
        persona = chosen.persona
        text = (f"**Role-play: {chosen.title}** ({chosen.topic}, {chosen.difficulty})\n"
                f"You're meeting {persona.name}, {persona.role} at {persona.company}. "
                f"{persona.intro}\n"
                "_Reply in your own words: connect with the concern, ask what is really behind "
                "it, then continue with evidence and a next step. Type `hint`, `restart` or "
                "`end` at any time._\n"
                f"**{persona.name}:** “{opening}”")
        return [Reply(text, dm=not ctx.direct, choices=self._controls())]

    @staticmethod
    def _controls() -> tuple[Choice, ...]:
        return (Choice(CONTROL_ACTION, "Hint", "hint"), Choice(CONTROL_ACTION, "End", "end"))

    async def _live_session(self, ctx: Context) -> Session | None:
        """The learner's open session, expiring it first when it has been idle too long."""
        session = await self.store.open_session(ctx.tenant, ctx.user)
        if session is not None and self.clock() - session.updated_at > self.idle:
            await self.store.close(session, "expired")
            return None
        return session

    async def on_continue(self, action: Action) -> list[Reply]:
        session = await self._live_session(action.context)
        if session is None or session.id != action.value:
            return [Reply("That role-play is no longer open. Start one with `roleplay`.",
                          private=True)]
        scenario = self.scenarios[session.scenario_id]
        return [Reply(f"**{scenario.persona.name}:** “{session.state['customer_line']}”",
                      dm=not action.context.direct, choices=self._controls())]

    async def on_replace(self, action: Action) -> list[Reply]:
        session = await self._live_session(action.context)
        if session is not None:
            await self.store.close(session, "abandoned")
        return await self.start(action.context, action.value.lower().split())

    async def on_control(self, action: Action) -> list[Reply]:
        replies = await self.on_text(Message(action.context, action.value), from_button=True)
        return replies or [Reply("You have no role-play open. Start one with `roleplay`.",
                                 private=True)]

    # -- the conversation -------------------------------------------------------------------

    async def on_text(self, message: Message, from_button: bool = False) -> list[Reply] | None:
        """In a DM with an open role-play, every line is the learner's reply (or a control)."""
        ctx = message.context
        if not ctx.direct and not from_button:
            return None
        stored = await self.store.open_session(ctx.tenant, ctx.user)
        if stored is None:
            return None
        if self.clock() - stored.updated_at > self.idle:
            await self.store.close(stored, "expired")
            expired = self.scenarios.get(stored.scenario_id)
            who = expired.persona.name if expired else "the customer"
            return [Reply(f"Your role-play with {who} expired after "
                          f"{int(self.idle.total_seconds() // 60)} idle minutes.",
                          choices=(Choice("run", "Start it again",
                                          f"roleplay {stored.scenario_id}"),))]
        scenario = self.scenarios.get(stored.scenario_id)
        if scenario is None:
            await self.store.close(stored, "abandoned")
            return [Reply("That scenario is no longer available. Start another with `roleplay`.")]
        command = message.text.strip().lower()
        if command.split()[:1] == ["roleplay"]:
            return None  # starting another role-play: the command asks first
        if command == "hint":
            return [self._hint(scenario, stored.state)]
        if command == "end":
            return await self._finish(ctx, stored, scenario, dict(stored.state), ended_by="you")
        if command == "restart":
            await self.store.close(stored, "abandoned")
            return await self.start(ctx, [scenario.id])
        if command in ("help", "?"):
            return [Reply("You're in a role-play: type your answer to the customer. `hint` "
                          "suggests what to do, `restart` starts over, `end` shows your "
                          "scorecard. Other commands (`stats`, `quiz`, `review`, `topics`) work "
                          "as usual and leave the role-play open.", choices=self._controls())]
        if self.is_command_line(message.text):
            return None  # `stats`, `quiz networking`...: the command runs, the role-play stays
        return await self._reply(ctx, stored, scenario, message.text.strip())

    def is_command_line(self, text: str) -> bool:
        """Whether a line is exactly a command (a command word alone, or with arguments such as a
        topic, a number or a time) rather than a reply that starts with a command word: `review`
        and `quiz networking` are commands, "Review the numbers with me" is a reply."""
        if self.router is None:
            return False
        word, _, rest = " ".join(text.split()).partition(" ")
        word = word.lower()
        if not self.router.has_command(word):
            return False
        if not rest:
            return True
        if word in _FREE_TEXT_COMMANDS:
            return False
        left = [t for t in rest.lower().replace("-", " ").split()
                if not _ARGUMENT_RE.match(t) and t not in _ARGUMENT_WORDS]
        return not left or " ".join(left) in self.scope_labels

    def _hint(self, scenario: Scenario, state: dict[str, Any]) -> Reply:
        tips = hint_lines(scenario, state["turn"], state["customer_line"])
        return Reply("**Hint**\n" + "\n".join(f"- {escape_md(t)}" for t in tips),
                     choices=self._controls())

    async def _reply(self, ctx: Context, stored: Session, scenario: Scenario,
                     text: str) -> list[Reply]:
        state = dict(stored.state)
        turn, line = state["turn"], state["customer_line"]
        result = grade(text, scenario, turn, line, self.former_names)
        telemetry.count("roleplay_turns", topic=scenario.topic, band=result.band)
        telemetry.observe("roleplay_score", result.score, topic=scenario.topic)
        state["history"] = [*state["history"], self._record(turn, line, text, result)]
        added = raises_frustration(result)
        state["frustration"] = state["frustration"] + added
        persona = scenario.persona
        feedback = [f"**This reply: {result.score} ({result.band})**"]
        feedback += [f"- {escape_md(item)}" for item in keep_start_stop(result)]
        limit = FRUSTRATION_LIMIT.get(scenario.difficulty, 3)
        if state["frustration"] >= limit:
            state["customer_line"] = ("I'm going to stop us here. I need a partner who listens "
                                      "and talks to me plainly.")
            feedback.append(f"**{persona.name}:** “{state['customer_line']}”")
            replies = [Reply("\n".join(feedback), choices=self._reading(result))]
            return replies + await self._finish(ctx, stored, scenario, state,
                                                ended_by="the customer")
        next_line = self._advance(state, scenario, text, line)
        if next_line is None:
            return [Reply("\n".join(feedback), choices=self._reading(result))] + \
                await self._finish(ctx, stored, scenario, state, ended_by=None)
        if added:
            feedback.append(f"_{persona.name} looks less convinced._")
        feedback.append(f"**{persona.name}:** “{next_line}”")
        if not await self.store.save(stored, state):
            return [Reply("That reply was already handled.", private=True)]
        return [Reply("\n".join(feedback), choices=self._reading(result) + self._controls())]

    def _reading(self, result: Grade) -> tuple[Choice, ...]:
        """A button to the knowledge entry behind each false claim in the reply."""
        choices = []
        for claim in result.misconceptions:
            entry = self.kb.entries.get(claim.entry)
            if entry is not None:
                choices.append(Choice(ASK_ACTION, f"Read: {entry.title}", entry.id))
        return tuple(dict.fromkeys(choices))

    @staticmethod
    def _record(turn: str, line: str, text: str, result: Grade) -> dict[str, Any]:
        return {"turn": turn, "customer": line, "reply": text, "score": result.score,
                "criteria": {c.name: [c.points, c.max] for c in result.criteria},
                "strengths": [c.name for c in result.criteria if c.max and c.points >= 0.7 * c.max],
                "suggestions": list(result.suggestions)}

    @staticmethod
    def _advance(state: dict[str, Any], scenario: Scenario, text: str,
                 line: str) -> str | None:
        """Move the state to the customer's next line; None when the meeting is over."""
        if not state["revealed"] and state["turn"] != "concern" and \
                is_good_clarifying_question(text, scenario, line):
            state.update(turn="concern", revealed=True,
                         customer_line=scenario.hidden_concern.reveal)
            return scenario.hidden_concern.reveal
        if state["turn"] in ("opening", "concern"):
            index = 0
        else:
            index = state["pushback"] + 1
        if index >= len(scenario.pushbacks):
            return None
        state.update(turn="pushback", pushback=index, customer_line=scenario.pushbacks[index])
        return scenario.pushbacks[index]

    async def _finish(self, ctx: Context, stored: Session, scenario: Scenario,
                      state: dict[str, Any], ended_by: str | None) -> list[Reply]:
        history = state["history"]
        total = round(sum(h["score"] for h in history) / len(history)) if history else 0
        now = self.clock()
        # The finished session and the learner's card are one transaction (atomic answers).
        if not await self.store.finish(
                stored, state, total, CARD_PREFIX + scenario.id if history else None, MODULE,
                lambda card: memory.review(card, rating_for_score(total), now)):
            return [Reply("That role-play was already finished.", private=True)]
        return [self._scorecard(scenario, state, total, ended_by)]

    def _scorecard(self, scenario: Scenario, state: dict[str, Any], total: int,
                   ended_by: str | None) -> Reply:
        history = state["history"]
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for turn in history:
            for name, (points, maximum) in turn["criteria"].items():
                sums[name][0] += points
                sums[name][1] += maximum
        ending = {None: "The meeting is over.", "you": "You ended the meeting.",
                  "the customer": f"{scenario.persona.name} ended the meeting early."}[ended_by]
        lines = [f"**Scorecard: {scenario.title}**",
                 f"{ending} {len(history)} repl{'y' if len(history) == 1 else 'ies'}: "
                 f"**{total}/100, {band_for(total)}**" if history else
                 f"{ending} No replies were graded."]
        strengths = [n for n, (p, m) in sums.items() if m and p >= 0.7 * m]
        weak = [n for n, (p, m) in sums.items() if m and p < 0.5 * m]
        if strengths:
            lines.append("**Strengths:** " + ", ".join(strengths))
        tips: list[str] = []
        for turn in reversed(history):
            for tip in turn["suggestions"]:
                if tip not in tips:
                    tips.append(tip)
        if weak or tips:
            lines.append("**Practise:** " + (", ".join(weak) if weak else "polish the details"))
            lines += [f"- {escape_md(t)}" for t in tips[:3]]
        answers = scenario.model_answers
        lines.append("**Model answers**")
        lines.append(f"- To the objection: {answers.opening}")
        if state.get("revealed"):
            lines.append(f"- To the real concern: {answers.concern}")
        played = {t["customer"] for t in history}
        for line, model in zip(scenario.pushbacks, answers.pushbacks, strict=False):
            if line in played:
                lines.append(f"- To “{line}”: {model}")
        fields = tuple(Field(name, f"{p}/{m}") for name, (p, m) in sums.items())
        return Reply("\n".join(lines), fields=fields, choices=(
            Choice("run", "Try again", f"roleplay {scenario.id}"),
            Choice("run", f"Another {scenario.topic} customer", f"roleplay {scenario.topic}")))

    # -- progress hooks -----------------------------------------------------------------------

    async def stats_lines(self, tenant: str, user: str) -> list[str]:
        """`stats` lines: sessions and scores per topic."""
        finished = await self.store.finished(tenant, user)
        per_topic: dict[str, list[int]] = defaultdict(list)
        for session in finished:
            if session.score is not None:
                per_topic[session.topic].append(session.score)
        parts = []
        for topic in TOPICS:
            scores = per_topic.get(topic)
            parts.append(f"{topic} {len(scores)}× (best {max(scores)}, last {scores[-1]})"
                         if scores else f"{topic} –")
        return ["**Role-play**: " + " · ".join(parts)]

    async def due_reply(self, ctx: Context, now: datetime) -> Reply | None:
        """For `review`: scenarios whose card is due, as buttons to practise them again."""
        cards = await self.quiz_store.cards(ctx.tenant, ctx.user)
        due = [c for c in cards if c.item_id.startswith(CARD_PREFIX) and c.due <= now
               and c.item_id[len(CARD_PREFIX):] in self.scenarios]
        if not due:
            return None
        scenarios = [self.scenarios[c.item_id[len(CARD_PREFIX):]] for c in due]
        return Reply(f"**Objections due for practice:** {len(scenarios)}", private=True,
                     choices=tuple(Choice("run", f"{s.persona.role}: {s.topic}",
                                          f"roleplay {s.id}") for s in scenarios[:5]))
