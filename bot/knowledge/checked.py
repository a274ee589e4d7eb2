"""Loading a knowledge base that must be valid: the process lists the problems and stops."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.loader import load_knowledge
from bot.knowledge.schema import KnowledgeBase


class KnowledgeInvalid(Exception):
    """The knowledge base has errors; the process should list them and stop."""

    def __init__(self, kb: KnowledgeBase) -> None:
        super().__init__(f"{len(kb.errors)} problem(s) in the knowledge base")
        self.kb = kb


def load_valid(folder: Path) -> KnowledgeBase:
    """Load the knowledge base, refusing one whose shape has errors (`aws-quiz knowledge check`
    also verifies what the content does; see `load_knowledge`)."""
    kb = load_knowledge(folder, verify=False)
    if kb.errors:
        raise KnowledgeInvalid(kb)
    return kb
