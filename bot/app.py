"""Assemble the core once per process: knowledge, lookup index, store and router."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from bot.config import Settings
from bot.daily.feature import DailyFeature
from bot.home import register_run_action
from bot.knowledge import KnowledgeBase
from bot.knowledge.checked import KnowledgeInvalid, load_valid
from bot.lookup import Lookup
from bot.model import ConversationRef
from bot.ports import Outbounds
from bot.privacy import PrivacyFeature
from bot.quiz.exam import ExamFeature
from bot.quiz.feature import Clock, QuizFeature
from bot.quiz.mistakes import MistakesFeature
from bot.quiz.progress import ProgressFeature
from bot.quiz.readiness import ReadinessFeature
from bot.quiz.typed import register_typed_answers
from bot.reports import ReportFeature
from bot.roleplay.dialogue import RoleplayFeature
from bot.router import Router
from bot.store.dailystore import DailyStore
from bot.store.historystore import HistoryStore
from bot.store.privacystore import PrivacyStore
from bot.store.database import Database, utcnow
from bot.store.quizstore import QuizStore
from bot.store.refstore import RefStore
from bot.store.reportstore import ReportStore
from bot.store.roleplaystore import RoleplayStore
from bot.store.teamstore import TeamStore
from bot.team import TeamFeature

__all__ = ["Core", "KnowledgeInvalid", "build_core", "load_checked", "open_database"]


@dataclass
class Core:
    """Everything an adapter needs from the core."""

    settings: Settings
    kb: KnowledgeBase
    lookup: Lookup
    router: Router
    outbounds: Outbounds
    db: Database | None = None
    refs: RefStore | None = None
    daily: DailyFeature | None = None

    async def remember(self, ref: ConversationRef) -> None:
        """Save where a conversation can be reached later (called on every inbound message)."""
        if self.refs is not None:
            await self.refs.save(ref)


def load_checked(settings: Settings) -> KnowledgeBase:
    """Load the knowledge base, refusing to run on one with errors."""
    return load_valid(settings.knowledge_dir)


_LOOKUPS: list[tuple[KnowledgeBase, Lookup]] = []  # the last two knowledge bases' indexes


def lookup_for(kb: KnowledgeBase) -> Lookup:
    """The lookup index of `kb`, built once per knowledge base object (it is read-only once
    built; its memo caches only ever hold the same answers). A reload brings a new object."""
    for known, lookup in _LOOKUPS:
        if known is kb:
            return lookup
    lookup = Lookup(kb.entries.values())
    _LOOKUPS[:] = [*_LOOKUPS[-1:], (kb, lookup)]
    return lookup


def build_core(settings: Settings, kb: KnowledgeBase | None = None, db: Database | None = None,
               rng: random.Random | None = None, clock: Clock = utcnow) -> Core:
    """The knowledge base, its lookup index and a router with every feature registered.

    Without a database only the stateless commands (help, topics, lookups) exist.
    """
    kb = kb if kb is not None else load_checked(settings)
    lookup = lookup_for(kb)
    router = Router(kb, lookup)
    register_run_action(router)
    core = Core(settings, kb, lookup, router, Outbounds(), db)
    if db is not None:
        store = QuizStore(db, clock)
        quiz = QuizFeature(kb, store, rng=rng, clock=clock)
        quiz.register(router)
        register_typed_answers(router, quiz)  # before role-play: a lone letter answers the quiz
        ExamFeature(quiz, pass_mark=settings.exam_pass_mark).register(router)
        history = HistoryStore(db)
        MistakesFeature(quiz, history).register(router)
        progress = ProgressFeature(kb, store, clock, history=history)
        progress.register(router)
        roleplay = RoleplayFeature(kb, kb.scenarios, RoleplayStore(db, clock), store,
                                   idle_minutes=settings.roleplay_idle_minutes, rng=rng,
                                   clock=clock)
        roleplay.register(router)
        progress.extra_sections.append(roleplay.stats_lines)
        readiness = ReadinessFeature(kb, TeamStore(db), clock, settings.exam_pass_mark)
        readiness.register(router)
        progress.extra_sections.append(readiness.stats_lines)
        TeamFeature(readiness).register(router)
        quiz.review_extras.append(roleplay.due_reply)
        core.refs = RefStore(db)
        core.daily = DailyFeature(kb, DailyStore(db, clock), store, core.refs, core.outbounds,
                                  admins=settings.admins, rng=rng, clock=clock,
                                  lease=timedelta(seconds=settings.daily_lease_seconds))
        core.daily.register(router)
        reports = ReportStore(db, clock)
        ReportFeature(kb, reports, admins=settings.admins, clock=clock).register(router)
        core.daily.excluded_questions = reports.reported_question_ids
        PrivacyFeature(PrivacyStore(db), admins=settings.admins, clock=clock).register(router)
    return core


async def open_database(settings: Settings) -> Database:
    """Connect to DATABASE_URL (default: a SQLite file under the data folder) and migrate it."""
    db = Database(settings.effective_database_url)
    await db.upgrade()
    return db
