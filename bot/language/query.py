"""Reading a lookup query: what kind of question it is, its core, and the sides of a comparison.

- *definition* ("what is X", "explain X", a bare name): a service named in it is the answer.
- *task* ("which service…", "how do I…", "what should I use to…", "where are … stored"): a
  service named in it is usually context, and the answer is what does the job described.
- *comparison* ("X vs Y", "difference between X and Y", "compare X and Y"): both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.language.text import normalise

DEFINITION_PREFIXES = (
    "what is the difference between", "whats the difference between", "difference between",
    "what is", "what are", "whats", "what does", "what do", "who is", "tell me about",
    "explain", "define", "describe", "how does", "how do", "ask", "info on", "about",
    "meaning of", "definition of",
)
_ARTICLES = ("a ", "an ", "the ")
# Openings that ask for the thing that does a job: what is named after them is context.
_TASK = re.compile(
    r"^(?:(?:so|ok|okay|hi|hey|quick question)\s+)*(?:"
    r"which|what (?:aws )?(?:service|tool|feature|option|product|offering|program|programme|"
    r"should|can|could|would|do (?:i|we|you) use|to use|lets|allows|helps|gives|provides)|"
    r"how (?:do|can|could|should|would) (?:i|we|you|my|our)|how to|best way|cheapest|easiest|"
    r"where (?:do|can|are|is|does)|is there (?:a|an|any)|i (?:need|want)|we (?:need|want)|"
    r"need to|want to|looking for|recommend|tool for|service for|way to"
    r")\b")
_TASK_ANYWHERE = re.compile(
    r"\b(?:which (?:aws )?(?:service|tool|feature|option)|what (?:aws )?(?:service|tool)|"
    r"what should (?:i|we) use|which (?:one|option) should|what do (?:i|we) use)\b")
_VERSUS = re.compile(r"\s+(?:vs\.?|versus|v\.?|compared (?:to|with)|or)\s+")
_COMPARE = re.compile(
    r"^(?:what(?:s| is) the )?(?:difference|differences|diff) (?:between|of)\s+(.+?)\s+and\s+(.+)$"
    r"|^compare\s+(.+?)\s+(?:and|with|to)\s+(.+)$"
    r"|^(.+?)\s+(?:vs\.?|versus)\s+(.+)$")


# "which cloud benefit is that", "what kind of deployment model": the kind of thing asked for.
_ASKS_FOR = re.compile(
    r"\b(?:which|what)\s+(?:kind of |type of |sort of )?((?:[a-z0-9-]+\s+){0,2}?[a-z0-9-]+)\s+"
    r"(?:is|are|was|does|do|did|should|would|can|could|will|lets|let|helps|gives|provides|comes|"
    r"applies|fits|handles|matches|describes|means|best|to|for|that|of|in|on|from|with|when|if)\b"
    r"|\b(?:which|what)\s+(?:kind of |type of |sort of )?((?:[a-z0-9-]+\s+){0,2}?[a-z0-9-]+)$")
# "who patches the OS, us or AWS?": a question about the split of responsibility.
_WHO_DOES = re.compile(
    r"\b(?:who|whose (?:job|responsibility))\b.*\b(?:(?:us|me|we|customer|customers|client|you)\s+or\s+"
    r"(?:aws|amazon)|(?:aws|amazon)\s+or\s+(?:us|me|we|the customer|customers|the client|you))\b"
    r"|\bwho(?:s| is)? (?:on the hook|responsible|accountable|in charge)\b")
_GENERIC_KINDS = frozenset({"aws", "amazon", "service", "services", "tool", "tools", "feature",
                            "option", "options", "one", "thing", "way", "product", "offering"})


@dataclass(frozen=True)
class ReadQuery:
    """What the query asks: its kind, its core for name matching, comparison sides, and the kind
    of thing it asks for ("cloud benefit", "support plan"), when it says."""

    text: str
    core: str
    kind: str  # "definition" | "task" | "comparison"
    sides: tuple[str, ...] = ()
    asks_for: tuple[str, ...] = ()


def asks_for(text: str) -> tuple[str, ...]:
    """The words naming the kind of answer wanted, generic ones ("service", "tool") left out."""
    plain = normalise(text)
    if _WHO_DOES.search(plain):
        return ("responsibility",)
    match = _ASKS_FOR.search(plain)
    if not match:
        return ()
    words = (match.group(1) or match.group(2)).split()
    return tuple(w for w in words if w not in _GENERIC_KINDS)


def strip_question(text: str) -> str:
    """'what is amazon s3?' -> 'amazon s3'; the core of a query for name matching."""
    core = normalise(text)
    changed = True
    while changed:
        changed = False
        for prefix in DEFINITION_PREFIXES:
            if core.startswith(prefix + " "):
                core = core[len(prefix) + 1:]
                changed = True
        for article in _ARTICLES:
            if core.startswith(article):
                core = core[len(article):]
                changed = True
    return core


def _strip_articles(text: str) -> str:
    text = text.strip(" ?.!")
    for article in _ARTICLES:
        if text.startswith(article):
            text = text[len(article):]
    return text.strip()


def comparison_sides(text: str) -> tuple[str, ...]:
    """The things compared ('ebs vs efs vs s3' -> ('ebs', 'efs', 's3')), or () when none."""
    plain = normalise(text)
    match = _COMPARE.match(plain)
    if not match:
        return ()
    first, second = next((a, b) for a, b in zip(match.groups()[::2], match.groups()[1::2],
                                                strict=True) if a)
    sides = [first, *re.split(r"\s+(?:vs|versus|and)\s+", second)]
    sides = [s for part in sides for s in re.split(r"\s+(?:vs|versus)\s+", part)]
    cleaned = tuple(_strip_articles(s) for s in sides if _strip_articles(s))
    if len(cleaned) < 2 or any(len(s.split()) > 5 for s in cleaned):
        return ()
    return cleaned


def read_query(text: str) -> ReadQuery:
    """Classify a lookup query."""
    plain = normalise(text)
    core = strip_question(text)
    sides = comparison_sides(text)
    if sides:
        return ReadQuery(text, core, "comparison", sides)
    if _TASK.match(plain) or _TASK_ANYWHERE.search(plain) or len(core.split()) > 6:
        return ReadQuery(text, core, "task", asks_for=asks_for(text))
    return ReadQuery(text, core, "definition")
