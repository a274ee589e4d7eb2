"""The knowledge base: typed entries and questions loaded and validated from YAML."""

from bot.knowledge.loader import load_knowledge
from bot.knowledge.schema import Domain, Entry, KnowledgeBase, KnowledgeError, Question, Section

__all__ = [
    "Domain",
    "Entry",
    "KnowledgeBase",
    "KnowledgeError",
    "Question",
    "Section",
    "load_knowledge",
]
