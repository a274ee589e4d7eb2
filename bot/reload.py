"""Live content reload: load the knowledge folder again, validate it, and swap it in place.

`reload_knowledge(core, settings)` reads `settings.knowledge_dir` with the same validation as
start-up (`load_valid`). An invalid set changes nothing: the result lists every error (file,
line, field) and the last good set stays in service. A valid one is built into a new knowledge
base, lookup index, router and daily feature (`build_core` on the same database), which replace
the old ones on the existing `core` object: adapters read `core.router` on every request, so the
next request sees the new content, and a request already being answered finishes with the old.

Progress is kept, by id: a changed question keeps its id and with it its answers and its
spaced-repetition card. A removed question's answers and card stay in the database but are
ignored (reviews, stats and exams draw only from questions in the bank), and its buttons in
old messages answer that it is no longer in the question bank; if it comes back under the same
id, its progress comes back with it.

The version of a knowledge set is a hash of its files (names and bytes), so an unchanged
folder is recognised without loading it again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.knowledge.checked import KnowledgeInvalid, load_valid
from bot.knowledge.schema import KnowledgeBase, Question

if TYPE_CHECKING:
    from bot.app import Core

log = logging.getLogger(__name__)

STATE_ATTRIBUTE = "knowledge_state"


@dataclass(frozen=True)
class KnowledgeVersion:
    """A content hash of a knowledge folder and how many files it covers."""

    digest: str
    files: int


UNKNOWN = KnowledgeVersion("unknown", 0)


@dataclass
class KnowledgeState:
    """What a core serves (its version, UNKNOWN until recorded) and the lock that keeps
    reloads one at a time."""

    version: KnowledgeVersion = UNKNOWN
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class ReloadResult:
    """The outcome of one reload: `status` is reloaded, unchanged, refused or failed."""

    status: str
    version: str  # in service after the attempt
    previous: str
    entries: int
    questions: int
    scenarios: int
    files: int
    errors: tuple[str, ...] = ()
    added: tuple[str, ...] = ()  # question ids
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in ("reloaded", "unchanged")

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "version": self.version, "previous": self.previous,
                "entries": self.entries, "questions": self.questions,
                "scenarios": self.scenarios, "files": self.files, "errors": list(self.errors),
                "questions_added": list(self.added), "questions_removed": list(self.removed),
                "questions_changed": list(self.changed)}

    def summary(self) -> str:
        """One line for a log or a terminal."""
        if self.status == "reloaded":
            return (f"knowledge reloaded: version {self.version} (was {self.previous}), "
                    f"{self.entries} entries, {self.questions} questions, {self.scenarios} "
                    f"scenarios; questions +{len(self.added)} added, -{len(self.removed)} "
                    f"removed, ~{len(self.changed)} changed")
        if self.status == "unchanged":
            return f"knowledge unchanged: version {self.version} is in service"
        return (f"knowledge reload {self.status}: {len(self.errors)} problem(s); still serving "
                f"version {self.version}")


def knowledge_version(folder: Path) -> KnowledgeVersion:
    """Hash every file under `folder` (relative path and bytes; hidden files left out)."""
    digest = hashlib.sha256()
    files = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
        files += 1
    return KnowledgeVersion(digest.hexdigest()[:12], files)


def state_of(core: Core) -> KnowledgeState:
    """The knowledge state of `core` (its version UNKNOWN until `mark_loaded`)."""
    state = getattr(core, STATE_ATTRIBUTE, None)
    if not isinstance(state, KnowledgeState):
        state = KnowledgeState()
        setattr(core, STATE_ATTRIBUTE, state)
    return state


def mark_loaded(core: Core, version: KnowledgeVersion) -> KnowledgeState:
    """Record the version `core` was built from: hash the folder *before* loading it, so that
    a file changed in between makes the next reload load again rather than say unchanged."""
    state = state_of(core)
    state.version = version
    return state


def counts(kb: KnowledgeBase) -> dict[str, int]:
    return {"entries": len(kb.entries), "questions": len(kb.questions),
            "scenarios": len(kb.scenarios)}


def _result(status: str, kb: KnowledgeBase, version: KnowledgeVersion, previous: str,
            **extra: Any) -> ReloadResult:
    return ReloadResult(status, version.digest, previous, len(kb.entries), len(kb.questions),
                        len(kb.scenarios), version.files, **extra)


def _content(question: Question) -> Question:
    """The question without where it was written (moving it in its file changes nothing)."""
    return replace(question, file="", line=0)


def _diff(old: KnowledgeBase, new: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    before, after = old.questions, new.questions
    return {"added": tuple(sorted(set(after) - set(before))),
            "removed": tuple(sorted(set(before) - set(after))),
            "changed": tuple(sorted(q for q in set(before) & set(after)
                                    if _content(before[q]) != _content(after[q])))}


def _build(settings: Settings, core: Core, rng: random.Random | None) -> tuple[KnowledgeBase,
                                                                                  Core]:
    from bot.app import build_core

    kb = load_valid(settings.knowledge_dir)
    return kb, build_core(settings, kb=kb, db=core.db, rng=rng)


async def reload_knowledge(core: Core, settings: Settings, force: bool = False,
                           rng: random.Random | None = None) -> ReloadResult:
    """Load `settings.knowledge_dir` again and swap it into `core` if it is valid.

    An unchanged folder (same hash) is not loaded again unless `force`.
    """
    state = state_of(core)
    async with state.lock:
        current = state.version
        try:
            version = await asyncio.to_thread(knowledge_version, settings.knowledge_dir)
            if version == current and current is not UNKNOWN and not force:
                log.info("knowledge unchanged: version %s is in service", current.digest)
                return _result("unchanged", core.kb, current, current.digest)
            kb, fresh = await asyncio.to_thread(_build, settings, core, rng)
        except KnowledgeInvalid as invalid:
            errors = tuple(str(e) for e in invalid.kb.errors)
            log.warning("knowledge reload refused: %d problem(s) in %s; still serving version "
                        "%s", len(errors), settings.knowledge_dir, current.digest)
            for error in errors[:50]:
                log.warning("knowledge: %s", error)
            return _result("refused", core.kb, current, current.digest, errors=errors)
        except Exception as exc:  # noqa: BLE001 - a reload must never take the server down
            log.exception("knowledge reload failed; still serving version %s", current.digest)
            return _result("failed", core.kb, current, current.digest,
                           errors=(f"{type(exc).__name__}: {exc}",))
        diff = _diff(core.kb, kb)
        if fresh.daily is not None:
            fresh.daily.outbounds = core.outbounds  # the adapters' ports are registered there
        core.kb, core.lookup, core.router, core.daily = kb, fresh.lookup, fresh.router, \
            fresh.daily
        state.version = version
        result = _result("reloaded", kb, version, current.digest, **diff)
        log.info("%s", result.summary())
        return result
