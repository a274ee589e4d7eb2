"""False claims a learner may make in a role-play, and the detector that finds them in a reply.

A misconception is a claim that is wrong in any conversation ("AWS Budgets caps your bill"), with
the fact that corrects it and the knowledge entry to read. It is recognised by what a sentence
claims, not by one fixed phrase: each `ClaimPattern` names who does what in three slots of
phrases (`who`, `does`, `what`). A pattern matches a clause of the reply when every non-empty slot
matches inside that one clause, in any order and close together, and the clause's polarity around
the `does` match agrees with the pattern's: "affirmed" for a claim stated positively ("AWS owns
your data"), "negated" for a claim that is itself a negation ("you don't need to encrypt").

Phrases compare word by word on the light stems of `bot.roleplay.matching`, so `own` matches
"owns" and "owned", and `data` matches "data". Clauses split at contrasts and subject switches
(", but", "while", "whereas", ";", "and you" ...), so "AWS secures the infrastructure, but you are
responsible for your data" never reads as "AWS is responsible for your data". Sentences that only
report a claim ("a common myth is that ...", "you're worried that ...", "formerly ...") and
questions do not assert it, and conditional clauses ("if ...") and "rather than ..." clauses are
skipped. A leading "When/Once/If ..." clause (or a trailing "even if ...") lends its words to the
main clause, and a pronoun points back to an earlier clause of the sentence - never for the actor.

Every slot phrase of every misconception seen sits in one index keyed by stems (compiled once per
Misconception object), so a reply is tokenised, split and scanned once for all of them.

Topic-wide misconceptions live in `knowledge/objections/misconceptions/<topic>.yaml`; a scenario
may add its own under `misconceptions:`. `load_misconceptions` / `build_misconceptions` validate
them with the knowledge base's FieldChecker: every example must be detected, no counterexample
may be.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.knowledge.checker import FieldChecker
from bot.knowledge.schema import KnowledgeError
from bot.knowledge.yamlsource import LineDict, YamlSyntaxError, load_yaml
from bot.roleplay.matching import (
    _DISMISSED,
    _DISMISSED_ALONE,
    _NEGATION_EXCEPTIONS,
    NEGATION_WINDOW,
    NEGATORS,
    Text,
    sentences,
    stem,
    tokenize,
)

TOPICS = ("security", "cost", "scalability")
POLARITIES = ("affirmed", "negated")
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MISCONCEPTION_FIELDS = {
    "id", "topic", "claim", "fact", "entry", "patterns", "examples", "counterexamples", "scenarios",
}
PATTERN_FIELDS = {"who", "does", "what", "polarity", "unless"}
MIN_EXAMPLES = 3
MIN_COUNTEREXAMPLES = 2
FOLDER = "misconceptions"  # under knowledge/objections/

# The matched slots of one pattern may have at most this many other words between them: a long
# clause that mentions AWS, responsibility and data far apart ("AWS is responsible for the physical
# security of the buildings in every Region that hold your data") does not claim that AWS is
# responsible for the data.
MAX_GAP = 7


@dataclass(frozen=True)
class ClaimPattern:
    """Who / does / what: every non-empty slot must match inside ONE clause of a sentence."""

    who: tuple[str, ...]
    does: tuple[str, ...]
    what: tuple[str, ...]
    polarity: str = "affirmed"  # "affirmed" | "negated"
    # optional: the pattern does not match a clause that contains any of these phrases
    # ("inbound" for "data transfer is free", "FIFO" for "SQS keeps strict order")
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class Misconception:
    """A false claim, the fact that corrects it, and how to recognise it in a reply."""

    id: str
    topic: str
    claim: str
    fact: str
    entry: str
    patterns: tuple[ClaimPattern, ...]
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]
    scenarios: tuple[str, ...] = ()  # empty: applies everywhere; else only these scenario ids
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Finding:
    """A misconception stated in a reply."""

    misconception: Misconception
    sentence: str  # the sentence of the reply that states it, quoted as written


# ---- the detector ------------------------------------------------------------------------------

Phrase = tuple[str, ...]  # stems; a word written "=word" in a slot stays "=word" (exact match)


@dataclass(frozen=True)
class _Compiled:
    """One pattern with every slot's phrases stemmed."""

    who: frozenset[Phrase]
    does: frozenset[Phrase]
    what: frozenset[Phrase]
    unless: frozenset[Phrase]
    negated: bool


_COMPILED: dict[int, tuple[Misconception, tuple[_Compiled, ...]]] = {}
_CACHE_LIMIT = 4096  # misconceptions are long-lived; the limit only guards against leaks


_WORD_RE = re.compile(r"[A-Za-z0-9]")
_GROUP_RE = re.compile(r"\[([^\[\]()]*)\]|\(([^\[\]()]*)\)")
MAX_VARIANTS = 4096


def expand(phrase: str) -> list[str]:
    """The word sequences a slot phrase stands for: `[x]` is optional, `(a|b)` is a choice,
    `[a|b]` an optional choice, and `a|b` at the top level a choice; groups may sit inside a word.

    "all [of] (your|the) security" -> all of your security, all of the security, all your
    security, all the security; "patch[es|ed]" -> patches, patched, patch."""
    return list(_expand_cached(phrase))


@lru_cache(maxsize=8192)
def _expand_cached(phrase: str) -> tuple[str, ...]:
    if "|" in _GROUP_RE.sub("", phrase):
        phrase = f"({phrase})"  # a top-level choice: "copy|copies"
    out: dict[str, None] = {}
    _expand(phrase, out)
    return tuple(out)


def _expand(phrase: str, out: dict[str, None]) -> None:
    if len(out) >= MAX_VARIANTS:
        return
    m = _GROUP_RE.search(phrase)
    if m is None:
        out[" ".join(phrase.split())] = None
        return
    head, tail = phrase[:m.start()], phrase[m.end():]
    # "[x]" or "[x|y]": optional; "(a|b)": one of; both may sit inside a word ("patch[es]")
    options = [*m.group(1).split("|"), ""] if m.group(1) is not None else m.group(2).split("|")
    for option in options:
        _expand(head + option + tail, out)


def variant_count(phrase: str) -> int:
    """How many word sequences `expand(phrase)` would give, without listing them (at most)."""
    if "|" in _GROUP_RE.sub("", phrase):
        return len(phrase.split("|"))  # a top-level choice of plain phrases
    count = 1
    for optional, choice in _GROUP_RE.findall(phrase):
        count *= len(optional.split("|")) + 1 if optional or not choice else len(choice.split("|"))
    return count


def _phrase_words(variant: str) -> Phrase:
    """Stems of a phrase; a word written "=word" matches that exact word only ("=secure" is not
    "security", although both stem to "secur")."""
    words: list[str] = []
    for raw in variant.split():
        exact = raw.startswith("=")
        for t in tokenize(raw.lstrip("=")):
            words.append("=" + t.lower if exact else _base(t.lower, t.stem))
    return tuple(words)


def _phrases(values: Iterable[str]) -> frozenset[Phrase]:
    out: set[Phrase] = set()
    for value in values:
        out |= _value_phrases(value)
    return frozenset(out)


@lru_cache(maxsize=8192)
def _value_phrases(value: str) -> frozenset[Phrase]:
    return frozenset(w for w in map(_phrase_words, _expand_cached(value)) if w)


def _compiled(m: Misconception) -> tuple[_Compiled, ...]:
    """The stemmed patterns of a misconception, computed once per object."""
    hit = _COMPILED.get(id(m))
    if hit is not None and hit[0] is m:
        return hit[1]
    patterns = []
    for p in m.patterns:
        does = _phrases(p.does)
        if does:
            patterns.append(_Compiled(_phrases(p.who), does, _phrases(p.what),
                                      _phrases(p.unless), p.polarity == "negated"))
    result = tuple(patterns)
    if len(_COMPILED) > _CACHE_LIMIT:
        _COMPILED.clear()
    _COMPILED[id(m)] = (m, result)
    return result


@lru_cache(maxsize=65536)
def _key(phrase: Phrase) -> Phrase:
    """The look-up key of a phrase: exact words reduced to their stems."""
    return tuple(_base(w[1:], stem(w[1:])) if w[0] == "=" else w for w in phrase)


Plan = tuple[int, int, int, int, bool]  # a pattern as (who, does, what, unless) slot ids + negated


class _Registry:
    """Every slot phrase of every misconception seen so far, looked up by its stems in one pass
    over a reply: key (stems, exact words reduced to their stems) -> [(slot id, phrase)].

    A misconception is compiled and added once; slots with the same phrases share an id, so a
    reply is scanned once however many sequences (scenarios) the misconceptions come in."""

    def __init__(self) -> None:
        self.members: dict[int, tuple[Misconception, tuple[Plan, ...]]] = {}
        self.by_key: dict[Phrase, list[tuple[int, Phrase]]] = {}
        self.lengths: dict[str, tuple[int, ...]] = {}
        self.slot_ids: dict[frozenset[Phrase], int] = {}

    def plan(self, m: Misconception) -> tuple[Plan, ...]:
        hit = self.members.get(id(m))
        if hit is not None and hit[0] is m:
            return hit[1]
        if len(self.members) > _CACHE_LIMIT:
            self.__init__()  # type: ignore[misc]
            _LAST_PLANS.clear()  # their slot ids belonged to the old index
        plans = tuple((self._slot(c.who), self._slot(c.does), self._slot(c.what),
                       self._slot(c.unless), c.negated) for c in _compiled(m))
        self.members[id(m)] = (m, plans)
        return plans

    def _slot(self, phrases: frozenset[Phrase]) -> int:
        if not phrases:
            return -1
        sid = self.slot_ids.get(phrases)
        if sid is None:
            sid = self.slot_ids[phrases] = len(self.slot_ids)
            for phrase in phrases:
                key = _key(phrase)
                self.by_key.setdefault(key, []).append((sid, phrase))
                known = self.lengths.get(key[0], ())
                if len(key) not in known:
                    self.lengths[key[0]] = tuple(sorted((*known, len(key))))
        return sid


_REGISTRY = _Registry()


# Clause boundaries inside a sentence. Contrasts and subject switches start a new clause, so slots
# never pair across "AWS secures the hardware, but you secure your data".
_SUBJECT = (r"(?:you|your|you're|you'll|we|we're|we'll|our|they|they're|their|it|it's|aws|amazon"
            r"|i|i'm|i'd|customers?|the customer|the provider|there|this|that|these|those|everyone"
            r"|nobody|no one)\b")
_CLAUSE_RE = re.compile(
    r"[;:()\[\]\u2014\u2013]|\s-\s|\.\.\."
    r"|,?\s*\b(?:but|however|although|though|whereas|whilst|while|yet|because|since|so|hence"
    r"|therefore|thus|which|where|whose|unless|except|otherwise|meanwhile|plus|whether|if"
    r"|rather than|instead of|as opposed to|in contrast|on the other hand|unlike|compared to"
    r"|compared with|as long as|provided that|in case|until|before|after|once|only when"
    r"|then)\b"
    rf"|,?\s*\b(?:and|or)\s+(?:then\s+)?(?={_SUBJECT})|,\s*(?:and|or)\b"
    rf"|,\s*(?={_SUBJECT})",
    re.IGNORECASE)
# The helper is the subject of the first clause, the customer of the second: "CloudTrail helps |
# you stop an intruder" (the cut is at the end of the match).
_HELPER_RE = re.compile(
    r"\b(?:help|helps|helping|helped)\s+(?=(?:you|your|teams?|us|customers?|the customer"
    r"|people|staff)\b)",
    re.IGNORECASE)
# "that" starts a relative clause ("the buildings that hold your data") unless it follows a word
# that takes a "that" complement ("AWS guarantees that ...").
_THAT_RE = re.compile(r"\s(?=that\b)", re.IGNORECASE)
# "exactly once", "at least once", "more than once", "so far", "even so": not clause breaks
_NOT_A_BREAK_RE = re.compile(
    r"\b(?:(?:exactly|least|most|than|only|just|all|more)[\s-]+once|even\s+so"
    r"|(?:look|looks|looking|looked|right|just|shortly|soon|long|straight|day|days|year|years"
    r"|month|months|week|weeks|hour|hours|minute|minutes|time|well|ask|asks|asked|going)\s+"
    r"(?:after|before))$", re.IGNORECASE)
_MAYBE_NOT_A_BREAK = frozenset({"once", "so", "if", "before", "after", "then"})
_NOT_A_BREAK_AFTER_RE = re.compile(
    r"\W*(?:so\s+(?:far|much|many|long)|if\s+(?:any|anything|not|so|needed|necessary)\b"
    r"|before\s+long|then\s+again)\b", re.IGNORECASE)
# "When your servers are stopped, you pay nothing": the main clause claims something about the
# servers, so its who/what slots may match in such a leading clause.
_CONTEXT_RE = re.compile(r"^\W*(?:if|when|whenever|once|as soon as|even if|even when)\b",
                         re.IGNORECASE)
_CONCESSION_RE = re.compile(r"^\W*(?:even if|even when|even though)\b", re.IGNORECASE)
_ACTORS = frozenset({"aws", "amazon", "provider", "you", "we", "they"})
_PRONOUNS = frozenset({"it", "its", "they", "them", "their", "these", "those", "it's",
                       "they're"})
_PRONOUN_RE = re.compile(r"\b(?:it|its|they|them|their|these|those)\b", re.IGNORECASE)
_LEADERS = frozenset({"and", "or", "but", "so", "then", "also", "because", "since", "which",
                      "that", "once", "when", "while", "yet", "still", "now"})


def _starts_with_pronoun(p: _Prepared, lo: int, hi: int) -> bool:
    """"..., and they can't be interrupted": the clause's subject is a pronoun."""
    for i in range(lo, min(hi, lo + 3)):
        if p.lower[i] in _PRONOUNS:
            return True
        if p.lower[i] not in _LEADERS:
            return False
    return False
_LEADING_CONDITION_RE = re.compile(
    r"(?:^|[;:,]\s*)(?:if|unless|when|whenever|once|even if|as long as|provided that|in case)\b",
    re.IGNORECASE)
# "instances that are stopped": a one-word relative clause stays with its noun
_SHORT_RELATIVE_RE = re.compile(
    r"\s+that\s+(?:are|is|were|was|have been|has been)\s+(?:not\s+)?(?:stopped|idle|unused"
    r"|running|attached|switched off|turned off|paused|empty|public|private|encrypted)\b",
    re.IGNORECASE)
_THAT_HEADS = frozenset("""
mean means meant meaning guarantee guarantees guaranteed ensure ensures ensuring say says said
know knows think thinks believe believes promise promises promised agree agrees so such is was are
were be been fact sure clear true note given show shows prove proves confirm confirms assume assumes
claim claims likely possible expect expects hope tell tells told realise realize understand remember
worry worried concern concerned afraid now way point idea myth misconception certain make makes
made see sees find finds found state states stated suggest suggests mind feel feels felt assured
rest case chance risk argue argues argued explain explains explained admit read heard hear
""".split())
_AUX = frozenset({"is", "are", "was", "were", "has", "have", "had", "can", "could", "will", "would",
                  "may", "might", "must", "should", "does", "do", "did", "cannot", "need", "needs"})
# A clause led by one of these does not assert its content.
_SKIP_CLAUSE_RE = re.compile(
    r"^\W*(?:and\s+|or\s+|,\s*)?(?:if|unless|whether|rather than|instead of|as opposed to|even if"
    r"|suppose|imagine|in case|unlike|compared to|compared with|as long as|provided that)\b",
    re.IGNORECASE)
# A clause followed by one of these is conditional on the customer: "your data is copied to
# another Region only if you set up replication" is true.
_CONDITION_NEXT_RE = re.compile(
    r"^\W*(?:only\s+(?:if|when|once|after)|if|unless|as long as|provided that)\s+"
    r"(?:you|your|the customer|customers|we|our|a customer|they)\b", re.IGNORECASE)
_CONDITION_ACT_RE = re.compile(
    r"\b(?:set|sets|setting|configure|configures|enable|enables|turn|turns|switch|switches|choose"
    r"|chooses|chose|ask|asks|agree|agrees|request|requests|opt|opts|allow|allows|authori[sz]e"
    r"|authori[sz]es|decide|decides|tell|tells|instruct|instructs|pay|pays|buy|buys|select|selects"
    r"|create|creates|add|adds|commit|commits|sign|signs|grant|grants|give|gives|consent|consents"
    r"|permit|permits|approve|approves|want|wants|need|needs|copy|copies|replicate|replicates"
    r"|install|installs|attach|attaches|apply|applies)\b", re.IGNORECASE)
_CONDITION_TAIL_RE = re.compile(r"\bonly\s*$", re.IGNORECASE)
# Words that report a claim instead of making it; the clause they are in and those after it in the
# same sentence (up to a contrast) are not assertions.
_REPORTED_RE = re.compile(
    r"\b(?:myths?|misconceptions?|misunderstand\w*|misbelief|mistaken(?:ly)?|misled|misleading"
    r"|(?:not|isn't|is not|never|n't|wasn't) (?:true|the case|correct|right|accurate|so)|untrue"
    r"|false(?:hood)?|contrary to|a common (?:mistake|belief|assumption|worry|fear|question)"
    r"|(?:people|customers|teams|folks|many|some|others|companies|banks|buyers|leaders|finance"
    r"|executives|cfos?|cisos?|everyone|somebody|someone|boards?|regulators?|auditors?)\s+"
    r"(?:often\s+|still\s+|sometimes\s+|wrongly\s+|may\s+|might\s+|usually\s+)?"
    r"(?:think|thinks|assume|assumes|believe|believes|expect|expects|fear|fears|worry|worries"
    r"|say|says|claim|claims|hear|heard|imagine|suspect|suspects)"
    r"|you (?:may|might|could) (?:have heard|hear|think|assume|believe|expect|imagine|worry|fear)"
    r"|(?:you|you're|you are|we're|i'm|they're|are you|were you|is|it's|feel|feeling)\s+"
    r"(?:\w+\s+)?(?:worried|concerned|afraid|nervous|anxious|uneasy|scared|wondering|asking"
    r"|sceptical|skeptical|unsure)"
    r"|(?:the|your|a|this|that|their|any|my|our|real|valid|fair|common|big|main|biggest|first)"
    r"\s+(?:concern|concerns|fear|fears|worry|worries|question|questions|risk|doubt|doubts"
    r"|suspicion)\s+(?:that|about|of|is|was|whether|if)"
    r"|(?:worried|concerned|afraid|nervous|anxious|wondering)\s+(?:that|about|whether|if|by)"
    r"|tempting to|the idea that|the notion that|the assumption that|the belief that|the impression"
    r"|heard that|read that|told that|formerly|previously|renamed|rebranded|used to be|used to"
    r"|was called|were called|now called|now named|now known|is now|are now|replaced|replaces"
    r"|replacing|superseded|supersedes|successor|retired|old name|former name|new name"
    r"|no longer called|legacy name|former|discontinued|in favou?r of|predecessor|deprecated"
    r"|end[- ]of[- ]life|sunset|sunsetted|history|historical|no longer (?:available|offered|supported"
    r"|exists?|an option|sold)|(?:older|old|outdated) (?:study )?(?:material|materials|notes|exam"
    r"|questions|docs|documentation|courses?)|(?:moved|migrated|switched) (?:to|off|away)"
    r"|still (?:list|lists|mention|mentions|name|names)|(?:was|were) (?:a|an|once))\b",
    re.IGNORECASE)
_CONTRAST_RE = re.compile(r"^\W*(?:but|however|although|though|yet|whereas|while|whilst|in fact"
                          r"|actually|instead)\b|^\s*;", re.IGNORECASE)
_RHETORICAL_RE = re.compile(r"^\W*(?:did you know|isn't it|wouldn't it|don't forget|remember)\b",
                            re.IGNORECASE)
_INTENSIFIERS = frozenset({"really", "strictly", "actually", "always", "even", "truly", "that"})
_EXTRA_NEGATORS = frozenset({"nobody", "nowhere", "noone", "neither", "nor", "zero"})
# Determiner-like negators negate the noun phrase right after them ("no upfront commitment"), not a
# word five words on ("no upfront payment, but a commitment").
_SHORT_NEGATORS = frozenset({"no", "without", "none", "zero", "nor", "neither"})
SHORT_WINDOW = 3
# A slot that is itself a verdict ("optional", "needed") is negated as part of the `does` match
# ("encryption isn't optional" insists on encryption), not on its own.
_PREDICATES = _DISMISSED | _DISMISSED_ALONE
_CLOSE_NEGATION = 2  # "not AWS", "not to AWS", "never your data": a negator right before a slot
# Single-word company names in a slot do not match the start of a product name ("AWS Budgets",
# "Amazon SageMaker"): the company does not do what its product does.
_COMPANY = frozenset({"aws", "amazon"})
# ... nor where the name is an adjective: "your AWS bill", "the AWS Region", "AWS data centres".
_DETERMINERS = frozenset({"the", "a", "an", "your", "our", "their", "its", "each", "every", "this",
                          "that", "these", "those", "any", "target", "my", "his", "her"})
_PLACES = frozenset({"on", "in", "into", "onto", "from", "with", "via", "inside", "across",
                     "using", "within", "outside", "off"})
_COMPANY_NOUNS = frozenset("""
account accounts bill bills billing console region regions service services cloud environment
environments infrastructure customer customers partner partners certification certifications
marketplace credits organization organizations organisation organisations resources resource
workload workloads pricing prices price support team teams documentation network networks backbone
data global free user users management security compliance side edge hardware facilities facility
datacenter datacenters datacentre datacentres platform platforms tools tool bills invoice invoices
api apis sdk sdks cli spend costs cost model models region's
""".split())


def _is_negator(word: str) -> bool:
    return word in NEGATORS or word in _EXTRA_NEGATORS or word.endswith("n't")


@dataclass
class _Clause:
    lo: int  # first token index
    hi: int  # one past the last token index
    sentence: int  # index into the sentence spans
    asserts: bool = True  # False: reported, conditional or "rather than" - it claims nothing
    context: int = -1  # a leading "when/once/if ..." clause whose words the who/what slots may use
    # earlier clauses of the sentence that a pronoun in this one may point back to ("Reserved
    # Instances are the answer: you can cancel them any month")
    antecedents: tuple[int, ...] = ()


@dataclass
class _Prepared:
    text: Text
    lower: list[str]
    spans: list[tuple[int, int]]
    clauses: list[_Clause] = field(default_factory=list)
    stems: list[str] = field(default_factory=list)
    clause_of: list[int] = field(default_factory=list)  # per token: its clause, or -1


def _cuts(body: str) -> list[int]:
    """Character offsets in one sentence where a new clause starts."""
    cuts = set()
    for m in _CLAUSE_RE.finditer(body):
        if m.start() == 0:
            continue
        word = m.group().lstrip(", ").lower()
        if word in _MAYBE_NOT_A_BREAK and (
                _NOT_A_BREAK_RE.search(body, max(0, m.end() - 40), m.end())
                or _NOT_A_BREAK_AFTER_RE.match(body, m.start())):
            continue
        cuts.add(m.start())
    cuts.update(m.end() for m in _HELPER_RE.finditer(body))
    for m in _THAT_RE.finditer(body):
        before = body[:m.start()].split()
        if before and before[-1].lower().strip(",'\"") not in _THAT_HEADS \
                and not _SHORT_RELATIVE_RE.match(body, m.start()):
            cuts.add(m.start())
    # "If an AZ fails, a single server ...": the condition ends at its first comma
    for m in _LEADING_CONDITION_RE.finditer(body):
        comma = body.find(",", m.end())
        if comma > 0:
            cuts.add(comma)
    ordered = sorted(cuts)
    # "A are X and B are Y": split at "and" when both sides have a verb of their own
    out: list[int] = []
    bounds = [0, *ordered, len(body)]
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a > 0:
            out.append(a)
        piece = body[a:b]
        for m in re.finditer(r"\sand\s", piece):
            left = piece[:m.start()].lower().split()
            right = piece[m.end():].lower().split()
            if _has_verb(left) and _has_verb(right[1:]) and not _has_verb(right[:1]):
                out.append(a + m.start())
    return sorted(set(out))


def _has_verb(words: list[str]) -> bool:
    return any(w.strip(",.'\"") in _AUX or w.endswith(("'s", "'re", "n't", "'ll")) for w in words)


def _prepare(raw: str) -> _Prepared:
    text = Text(raw)
    prepared = _Prepared(text, [t.lower for t in text.tokens], sentences(text.clean))
    starts = [t.start for t in text.tokens]
    for s_index, (s_start, s_end) in enumerate(prepared.spans):
        body = text.clean[s_start:s_end]
        if body.rstrip().endswith("?") and not _RHETORICAL_RE.match(body):
            continue  # a question asks; it does not claim
        cuts = [0, *_cuts(body), len(body)]
        pieces = [body[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
        # a reporting word ("myth", "formerly", "you're worried that") covers the stretch of the
        # sentence between contrasts ("but", "however", ";") that it sits in
        cues = [m.start() for m in _REPORTED_RE.finditer(body)]
        segment, segments, reported_segments = 0, [], set()
        for k, piece in enumerate(pieces):
            if _CONTRAST_RE.match(piece):
                segment += 1
            segments.append(segment)
            if any(cuts[k] <= c < cuts[k + 1] for c in cues):
                reported_segments.add(segment)
        previous = -1  # the index of the previous clause of this sentence, if it is a condition
        sentence_clauses: list[int] = []  # earlier clauses of this sentence that are not reported
        for k, piece in enumerate(pieces):
            lo = bisect_left(starts, s_start + cuts[k])
            hi = bisect_left(starts, s_start + cuts[k + 1])
            if hi <= lo:
                continue
            reported = segments[k] in reported_segments
            following = pieces[k + 1] if k + 1 < len(pieces) else ""
            asserts = not (
                reported or _SKIP_CLAUSE_RE.match(piece)
                or (_CONDITION_NEXT_RE.match(following) and _CONDITION_ACT_RE.search(following))
                or (_CONDITION_TAIL_RE.search(piece)
                    and re.match(r"\W*(?:if|when)\b", following, re.IGNORECASE)))
            antecedents: tuple[int, ...] = ()
            if _PRONOUN_RE.search(piece):
                antecedents = tuple(sentence_clauses)
            prepared.clauses.append(_Clause(lo, hi, s_index, asserts, previous, antecedents))
            if not reported:
                sentence_clauses.append(len(prepared.clauses) - 1)
            previous = (len(prepared.clauses) - 1
                        if not reported and _CONTEXT_RE.match(piece) else -1)
            # "Multi-AZ keeps you running even if the whole Region goes down": a trailing
            # concession lends its words to the clause before it
            concession = _CONCESSION_RE.match(piece) or (
                k > 0 and re.match(r"\W*(?:if|when|though)\b", piece, re.IGNORECASE)
                and re.search(r"\beven\s*$", pieces[k - 1], re.IGNORECASE))
            if (concession and not reported and len(prepared.clauses) > 1
                    and prepared.clauses[-2].sentence == s_index
                    and prepared.clauses[-2].context < 0):
                prepared.clauses[-2].context = len(prepared.clauses) - 1
    prepared.stems = [_base(t.lower, t.stem) for t in text.tokens]
    prepared.clause_of = [-1] * len(text.tokens)
    for c, clause in enumerate(prepared.clauses):
        for i in range(clause.lo, clause.hi):
            prepared.clause_of[i] = c
    return prepared


_CONTRACTION_RE = re.compile(r"^(\w+)'(?:ll|re|ve|d|m)$")


def _base(lower: str, stem_: str) -> str:
    """"you'll", "we're", "they've" compare as "you", "we", "they"."""
    m = _CONTRACTION_RE.match(lower)
    return m.group(1) if m else stem_


# A phrase that ends in the first word of one of these compounds names something else there:
# "your data" is not "your data centres".
_COMPOUNDS = {
    "data": frozenset({"centr", "center", "centers", "hall", "residency"}),
}


def _scan(p: _Prepared, index: _Registry) -> dict[int, list[tuple[int, int]]]:
    """Every slot phrase found in the reply, in one pass: slot id -> [(first, last) token], each
    occurrence inside one clause."""
    stems, lower, tokens = p.stems, p.lower, p.text.tokens
    clause_of = p.clause_of
    n = len(stems)
    by_key, lengths = index.by_key, index.lengths
    hits: dict[int, list[tuple[int, int]]] = {}
    for i in range(n):
        c = clause_of[i]
        starting = lengths.get(stems[i])
        if c < 0 or starting is None:
            continue
        for length in starting:
            j = i + length
            if j > n or clause_of[j - 1] != c:
                break
            entries = by_key.get(tuple(stems[i:j]))
            if not entries:
                continue
            for sid, phrase in entries:
                if not _fits(phrase, i, j, stems, lower, tokens, p.clauses[c].hi):
                    continue
                hits.setdefault(sid, []).append((i, j - 1))
    return hits


def _fits(phrase: Phrase, i: int, j: int, stems: list[str], lower: list[str],
          tokens: Sequence[Any], hi: int) -> bool:
    """Exact words, compounds ("data centre" is not "data") and company names used as adjectives
    or in product names ("AWS Budgets", "your AWS bill") for a phrase found at tokens i..j-1."""
    for k, w in enumerate(phrase):
        if w[0] == "=" and lower[i + k] != w[1:]:
            return False
    blocked = _COMPOUNDS.get(phrase[-1])
    if blocked and j < len(stems) and stems[j] in blocked:
        return False
    if len(phrase) == 1 and phrase[0] in _COMPANY and not lower[i].endswith("'s"):
        if j < hi and (tokens[j].text[:1].isupper() or lower[j] in _COMPANY_NOUNS):
            return False  # "AWS Budgets", "Amazon SageMaker", "AWS data centres"
        if i > 0 and lower[i - 1] in _DETERMINERS:
            return False  # "the AWS account", "your AWS bill"
        if i > 0 and lower[i - 1] in _PLACES:
            return False  # "banks on AWS encrypt ...": AWS is where, not who
    return True


def _negated_in_clause(p: _Prepared, first: int, last: int, lo: int, hi: int) -> bool:
    """A negator a few words before tokens first..last in the same clause (two cancel out:
    "never run without encryption"), or a dismissal right after them ("encryption is optional",
    "encryption isn't needed")."""
    words = p.lower
    count = 0
    for i in range(max(lo, first - NEGATION_WINDOW), first):
        word = words[i]
        if not _is_negator(word):
            continue
        if (word in _SHORT_NEGATORS and first - i > SHORT_WINDOW
                and not (word == "no" and i + 1 < hi and words[i + 1] == "longer")):
            continue
        following = words[i + 1] if i + 1 < hi else ""
        if following in _PREDICATES and i + 1 != first:
            continue  # "things that aren't needed and committing to ...": that "not" is spent
        if following in _NEGATION_EXCEPTIONS and i + 1 != first:
            continue  # "not only X" does not negate X; "isn't only for X" negates "only for X"
        count += 1
    if count % 2 == 1:
        return True
    for i in range(last + 1, min(hi, last + 1 + NEGATION_WINDOW)):
        word = words[i]
        if word in _DISMISSED_ALONE:
            # "encryption is optional" dismisses it; "encryption isn't optional" insists on it
            return not any(_is_negator(words[j]) for j in range(max(last + 1, i - 2), i))
        if _is_negator(word) and i + 1 < hi and words[i + 1] in _DISMISSED:
            return True
        if (_is_negator(word) and i + 2 < hi and words[i + 1] in _INTENSIFIERS
                and words[i + 2] in _DISMISSED):
            return True  # "encryption isn't really needed"
    return False


_LINKS = frozenset({"to", "by", "for", "of", "the", "your", "a", "an", "our", "their", "with",
                    "from", "any", "its", "in", "on"})


def _close_negation(p: _Prepared, first: int, lo: int) -> bool:
    """"not AWS", "not to AWS", "never the data": a negator right before a who/what slot, with at
    most one small word between."""
    words = p.lower
    if first - 1 >= lo and _is_negator(words[first - 1]):
        return True
    return (first - 2 >= lo and _is_negator(words[first - 2]) and words[first - 1] in _LINKS
            and words[first - 2] != "never")


def _trailing_words(p: _Prepared, last: int, hi: int) -> int:
    """Words after token `last` up to the end of its clause or the next comma."""
    tokens, clean = p.text.tokens, p.text.clean
    count = 0
    for i in range(last + 1, hi):
        if "," in clean[tokens[i - 1].end:tokens[i].start]:
            break
        count += 1
    return count


def _in(spans: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    return [s for s in spans if lo <= s[0] and s[1] < hi]


def _pattern_matches(p: _Prepared, hits: dict[int, list[tuple[int, int]]], pattern: Plan,
                     clause: _Clause) -> bool:
    who_id, does_id, what_id, unless_id, negated_pattern = pattern
    lo, hi = clause.lo, clause.hi
    does = _in(hits[does_id], lo, hi)
    if not does:
        return False
    # A leading condition ("When your servers are stopped, you pay nothing") always lends its
    # words; an earlier clause of the sentence does when this one points back to it with a
    # pronoun as its subject or inside the `does` match ("Reserved Instances are the answer: you
    # can cancel them any month") - but never the actor ("When you move to AWS, you manage your
    # data" is not about AWS).
    context = [p.clauses[clause.context]] if clause.context >= 0 else []
    antecedents = [p.clauses[c] for c in clause.antecedents if c != clause.context]
    subject_pronoun = bool(antecedents) and _starts_with_pronoun(p, lo, hi)

    def spans(slot_id: int, others: list[_Clause]) -> list[tuple[int, int]]:
        if slot_id < 0:
            return [(-1, -1)]
        found = _in(hits.get(slot_id, []), lo, hi)
        if found:
            return found
        for other in others:
            found += [s for s in _in(hits.get(slot_id, []), other.lo, other.hi)
                      if not _close_negation(p, s[0], other.lo)
                      and not any(p.stems[i] in _ACTORS for i in range(s[0], s[1] + 1))]
        return found

    for d in does:
        # a condition lends words only to a predicate that ends its clause ("..., you pay nothing
        # at all"), not to one with its own object ("AWS handles the hardware even if ...")
        others = context if _trailing_words(p, d[1], hi) <= 2 else []
        if antecedents and (subject_pronoun or any(
                p.lower[i] in _PRONOUNS for i in range(d[0], d[1] + 1))):
            others = context + antecedents
        if unless_id >= 0 and (_in(hits.get(unless_id, []), lo, hi) or any(
                _in(hits.get(unless_id, []), o.lo, o.hi) for o in others)):
            continue
        who = spans(who_id, others)
        what = spans(what_id, others)
        if not who or not what:
            continue
        d_negated = _negated_in_clause(p, d[0], d[1], lo, hi)
        for w in who:
            for x in what:
                chosen = [s for s in (d, w, x) if s[0] >= lo]
                first = min(s[0] for s in chosen)
                last = max(s[1] for s in chosen)
                covered = sum(s[1] - s[0] + 1 for s in chosen)
                if last - first + 1 - covered > MAX_GAP:
                    continue
                if _overlap(d, w) or _overlap(d, x) or _overlap(w, x):
                    continue
                negated = d_negated or any(
                    s[0] >= lo and p.lower[s[0]] not in _PREDICATES and _close_negation(p, s[0], lo)
                    for s in (w, x))
                if negated == negated_pattern:
                    return True
    return False


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a[0] < 0 or b[0] < 0:
        return False
    return not (a[1] < b[0] or b[1] < a[0])


_LAST_PLANS: dict[int, tuple[Sequence[Misconception], list[tuple[Plan, ...]]]] = {}


def _plans(misconceptions: Sequence[Misconception]) -> list[tuple[Plan, ...]]:
    """The registry's plans for a sequence; a scenario passes the same tuple every time."""
    hit = _LAST_PLANS.get(id(misconceptions))
    if hit is not None and hit[0] is misconceptions and isinstance(misconceptions, tuple):
        return hit[1]
    plans = [_REGISTRY.plan(m) for m in misconceptions]
    if isinstance(misconceptions, tuple):
        if len(_LAST_PLANS) > 256:
            _LAST_PLANS.clear()
        _LAST_PLANS[id(misconceptions)] = (misconceptions, plans)
    return plans


def find_misconceptions(text: str, misconceptions: Sequence[Misconception]) -> list[Finding]:
    """Each misconception stated in `text` (once, at its first sentence), in the reply's order.

    The sentence is quoted as written. Patterns are compiled and indexed once per Misconception,
    and a reply is scanned once for all of them."""
    if not text or not misconceptions:
        return []
    p = _prepare(text)
    if not any(c.asserts for c in p.clauses):
        return []
    plans = _plans(misconceptions)
    hits = _scan(p, _REGISTRY)
    if not hits:
        return []
    found: list[tuple[int, int, Finding]] = []
    for order, (m, patterns) in enumerate(zip(misconceptions, plans, strict=True)):
        live = [pt for pt in patterns if pt[1] in hits]
        if not live:
            continue
        clauses = sorted({p.clause_of[s[0]] for pt in live for s in hits[pt[1]]})
        for c in clauses:
            clause = p.clauses[c]
            if not clause.asserts:
                continue
            if any(_pattern_matches(p, hits, pt, clause) for pt in live):
                start, end = p.spans[clause.sentence]
                found.append((clause.sentence, order, Finding(m, text[start:end])))
                break
    found.sort(key=lambda f: (f[0], f[1]))
    return [f[2] for f in found]


def states(text: str, misconception: Misconception) -> bool:
    """Whether `text` states this one misconception."""
    return bool(find_misconceptions(text, (misconception,)))


# ---- loading and validation --------------------------------------------------------------------


@dataclass
class _Built:
    misconception: Misconception
    raw: LineDict
    check: FieldChecker
    item_id: str  # the id errors are reported under (the scenario's, for scenario-level items)
    prefix: str  # the dotted field prefix ("misconceptions[x]." for scenario-level items)


def _slot(check: FieldChecker, raw: LineDict, key: str, item_id: str, prefix: str,
          required: bool) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None or value == []:
        if required:
            check.error(raw.line_of(key) if key in raw else raw.line, item_id, prefix + key,
                        "is required (a list of phrases)")
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        check.error(raw.line_of(key), item_id, prefix + key, "must be a list of non-empty phrases")
        return ()
    phrases = tuple(" ".join(v.split()) for v in value)
    for phrase in phrases:
        if ")?" in phrase:
            check.error(raw.line_of(key), item_id, prefix + key,
                        f"phrase '{phrase}': write an optional part as [x], not (x)?")
        elif phrase.count("[") != phrase.count("]") or phrase.count("(") != phrase.count(")"):
            check.error(raw.line_of(key), item_id, prefix + key,
                        f"phrase '{phrase}' has unbalanced [optional] or (a|b) groups")
        elif variant_count(phrase) >= MAX_VARIANTS:
            check.error(raw.line_of(key), item_id, prefix + key,
                        f"phrase '{phrase}' stands for {MAX_VARIANTS} or more word sequences; "
                        f"split it into several phrases")
        elif not _WORD_RE.search(_GROUP_RE.sub("", phrase)) and not all(
                _WORD_RE.search(v.replace("=", "")) for v in _expand_cached(phrase)):
            check.error(raw.line_of(key), item_id, prefix + key,
                        f"phrase '{phrase}' has no words")
    return phrases


def _patterns(check: FieldChecker, raw: LineDict, item_id: str, prefix: str,
              ) -> tuple[ClaimPattern, ...]:
    value = raw.get("patterns")
    if value is None:
        check.error(raw.line, item_id, prefix + "patterns", "is required")
        return ()
    if not isinstance(value, list) or not value:
        check.error(raw.line_of("patterns"), item_id, prefix + "patterns",
                    "must be a non-empty list of mappings (who / does / what / polarity)")
        return ()
    built: list[ClaimPattern] = []
    for index, item in enumerate(value):
        where = f"{prefix}patterns[{index}]."
        if not isinstance(item, LineDict):
            check.error(raw.line_of("patterns"), item_id, where.rstrip("."),
                        "each pattern must be a mapping (who / does / what / polarity)")
            continue
        check.unknown_fields(item, PATTERN_FIELDS, item_id, where)
        who = _slot(check, item, "who", item_id, where, required=False)
        does = _slot(check, item, "does", item_id, where, required=True)
        what = _slot(check, item, "what", item_id, where, required=False)
        unless = _slot(check, item, "unless", item_id, where, required=False)
        polarity = item.get("polarity", "affirmed")
        if polarity not in POLARITIES:
            check.error(item.line_of("polarity"), item_id, where + "polarity",
                        f"must be one of: {', '.join(POLARITIES)} (not {polarity!r})")
            polarity = "affirmed"
        if does:
            built.append(ClaimPattern(who, does, what, polarity, unless))
    return tuple(built)


def build_misconceptions(
    check: FieldChecker, items: Iterable[Any], *, topic: str = "",
    scenarios: tuple[str, ...] = (), entry_ids: set[str] | frozenset[str] | None = None,
    owner_id: str = "", field_name: str = "misconceptions", verify: bool = True,
) -> list[_Built]:
    """Validate misconception items of one file.

    `topic`: the default topic (the file's or the scenario's). `scenarios`: the default scope
    (the scenario's id for items inside a scenario; () for topic-wide files). `entry_ids`: the
    knowledge entries that `entry` may name (None skips that check). `owner_id`: for items inside
    a scenario, the scenario's id; errors then name it and a field like `misconceptions[x].fact`.
    """
    built: list[_Built] = []
    for raw in items:
        if not isinstance(raw, LineDict):
            continue
        value = raw.get("id")
        raw_id = value if isinstance(value, str) else ""
        if owner_id:
            item_id = owner_id
            prefix = f"{field_name}[{raw_id}]." if raw_id else f"{field_name}."
        else:
            item_id, prefix = raw_id, ""
        check.unknown_fields(raw, MISCONCEPTION_FIELDS, item_id, prefix)
        mid = check.text(raw, "id", item_id, prefix)
        if mid and not ID_RE.match(mid):
            check.error(raw.line_of("id"), item_id, prefix + "id",
                        "must be kebab-case (a-z, 0-9, '-')")
        m_topic = topic
        if "topic" in raw:
            m_topic = check.text(raw, "topic", item_id, prefix) or topic
            if m_topic not in TOPICS:
                check.error(raw.line_of("topic"), item_id, prefix + "topic",
                            f"unknown topic '{m_topic}' (one of: {', '.join(TOPICS)})")
            elif topic in TOPICS and m_topic != topic and not owner_id:
                check.error(raw.line_of("topic"), item_id, prefix + "topic",
                            f"is '{m_topic}' but the file is {topic}.yaml")
        elif not m_topic:
            check.error(raw.line, item_id, prefix + "topic", "is required")
        claim = check.text(raw, "claim", item_id, prefix)
        fact = check.text(raw, "fact", item_id, prefix)
        entry = check.text(raw, "entry", item_id, prefix)
        if entry and entry_ids is not None and entry not in entry_ids:
            check.error(raw.line_of("entry"), item_id, prefix + "entry",
                        f"unknown entry id '{entry}' (see knowledge/*.yaml)")
        patterns = _patterns(check, raw, item_id, prefix)
        examples = check.text_list(raw, "examples", item_id, prefix, minimum=MIN_EXAMPLES)
        counter = check.text_list(raw, "counterexamples", item_id, prefix,
                                  minimum=MIN_COUNTEREXAMPLES)
        scope = scenarios
        if "scenarios" in raw:
            scope = check.text_list(raw, "scenarios", item_id, prefix, minimum=0)
        if not mid:
            continue
        m = Misconception(
            id=mid, topic=m_topic, claim=claim, fact=fact, entry=entry, patterns=patterns,
            examples=examples, counterexamples=counter, scenarios=tuple(scope),
            file=check.file, line=raw.line)
        if patterns and verify:
            for example in examples:
                if not states(example, m):
                    check.error(raw.line_of("examples"), item_id, prefix + "examples",
                                f"example not detected by its patterns: \"{example}\"")
        built.append(_Built(m, raw, check, item_id, prefix))
    return built


def check_misconceptions(built: Sequence[_Built], errors: list[KnowledgeError],
                         scenario_ids: Iterable[str] | None = None, verify: bool = True,
                         ) -> dict[str, Misconception]:
    """Across all loaded items: duplicate ids, counterexamples that any misconception detects
    (when `verify`), unknown scenario ids in `scenarios`. Returns the misconceptions by id (first
    wins)."""
    by_id: dict[str, Misconception] = {}
    every = [b.misconception for b in built]
    known = set(scenario_ids) if scenario_ids is not None else None
    for b in built:
        m = b.misconception
        if m.id in by_id:
            other = by_id[m.id]
            b.check.error(b.raw.line_of("id"), b.item_id, b.prefix + "id",
                          f"duplicate misconception id '{m.id}' (first defined at "
                          f"{other.file}:{other.line})")
            continue
        by_id[m.id] = m
        for sentence in m.counterexamples if verify else ():
            for finding in find_misconceptions(sentence, every):
                which = ("its own patterns" if finding.misconception is m
                         else f"misconception '{finding.misconception.id}'")
                b.check.error(b.raw.line_of("counterexamples"), b.item_id,
                              b.prefix + "counterexamples",
                              f"counterexample detected by {which}: \"{sentence}\"")
        if known is not None:
            for sid in m.scenarios:
                if sid not in known:
                    b.check.error(b.raw.line_of("scenarios"), b.item_id, b.prefix + "scenarios",
                                  f"unknown scenario id '{sid}'")
    return by_id


def load_misconception_files(root: Path, entry_ids: set[str] | frozenset[str] | None,
                             errors: list[KnowledgeError], verify: bool = True) -> list[_Built]:
    """Validate knowledge/objections/misconceptions/<topic>.yaml (each optional)."""
    folder = root / "objections" / FOLDER
    built: list[_Built] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        check = FieldChecker(errors, str(path))
        if path.stem not in TOPICS:
            check.error(1, "", "topic",
                        f"'{path.stem}' is not a topic (files are {', '.join(TOPICS)}.yaml)")
        try:
            raw: Any = load_yaml(path)
        except YamlSyntaxError as exc:
            check.error(exc.line, "", "", exc.message)
            continue
        if raw is None:
            continue
        if not isinstance(raw, LineDict) or not isinstance(raw.get("misconceptions"), list):
            check.error(getattr(raw, "line", 1) or 1, "", "misconceptions",
                        "the file must be a mapping with a list 'misconceptions'")
            continue
        items = raw["misconceptions"]
        if not all(isinstance(i, LineDict) for i in items):
            check.error(raw.line_of("misconceptions"), "", "misconceptions",
                        "each misconception must be a mapping")
        built.extend(build_misconceptions(
            check, items, topic=path.stem if path.stem in TOPICS else "", entry_ids=entry_ids,
            verify=verify))
    return built


def load_misconceptions(root: Path, entry_ids: set[str] | frozenset[str] | None = None,
                        ) -> tuple[list[Misconception], list[KnowledgeError]]:
    """The topic-wide misconceptions under root/objections/misconceptions/, validated."""
    errors: list[KnowledgeError] = []
    built = load_misconception_files(root, entry_ids, errors)
    by_id = check_misconceptions(built, errors)
    return list(by_id.values()), errors


def applicable(misconceptions: Iterable[Misconception], scenario_id: str,
               ) -> tuple[Misconception, ...]:
    """Those that apply to one scenario: every topic-wide one plus those scoped to it."""
    return tuple(m for m in misconceptions if not m.scenarios or scenario_id in m.scenarios)


__all__ = [
    "ClaimPattern",
    "Finding",
    "Misconception",
    "applicable",
    "build_misconceptions",
    "check_misconceptions",
    "expand",
    "find_misconceptions",
    "load_misconception_files",
    "load_misconceptions",
    "states",
]
