"""Deterministic, explainable grading of a role-play reply: Connect, Condense, Continue, do-nots.

Every point is earned by a sentence of the reply that *does* the move - acknowledges the worry,
asks an open clarifying question, restates the customer's words, explains a concept, gives
evidence, proposes a concrete next step - and the scorecard quotes the words that earned it.
Words without a sentence around them (keyword lists, fragments) earn nothing, a sentence said
twice counts once, and what the reply gets wrong costs more than what it gets right earns.
The sentence structure comes from `bot.roleplay.sentences`, the phrase matching from
`bot.roleplay.matching` and the false claims from `bot.roleplay.misconceptions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from bot.roleplay.matching import Match, Text, phrase_stems, stem, tokenize
from bot.roleplay.misconceptions import Finding, find_misconceptions
from bot.roleplay.scenarios import Concept, Evidence, Jargon, Scenario
from bot.roleplay.sentences import (
    FUNCTION_WORDS,
    VERB_FORMS,
    Sentence,
    Structure,
    analyse,
    repeated_phrases,
    words,
)

TURNS = ("opening", "concern", "pushback")

# Criteria, in the order they are shown. Their maxima add up to 100.
CONNECT, CONDENSE = "Connect", "Condense"
CONCEPTS, EVIDENCE, NEXT_STEP = "Continue: concepts", "Continue: evidence", "Continue: next step"
CUSTOMER = "Customer-centred"
MAXIMA = {CONNECT: 20, CONDENSE: 20, CONCEPTS: 20, EVIDENCE: 10, NEXT_STEP: 15, CUSTOMER: 15}
STEP_POINTS = {"concrete": 15, "vague": 8, "named": 5}
# A short clarifying turn later in the conversation (after the concern or a pushback) is graded
# as a turn of a conversation: what it needs is to connect and to ask.
ASK_MAXIMA = {CONNECT: 30, CONDENSE: 70, CONCEPTS: 0, EVIDENCE: 0, NEXT_STEP: 0, CUSTOMER: 0}
ASK_TURN_WORDS = 60
RESTATE_WORDS = 3  # of the customer's content words, in an opening statement
LOOSE_WINDOW = 6  # words: an alias's content words in any order, this close together
ACK_SPAN = 100  # characters: an acknowledgement opens its clause

# Penalty rules.
ABSOLUTES, JARGON, DISMISSIVE = "Absolutes", "Jargon", "Dismissive"
MONOLOGUE, FORMER_NAME = "Monologue", "Former name"
FALSE_CLAIM, KEYWORDS, REPETITION = "False claim", "Keyword list", "Repetition"
PENALTY_EACH = {ABSOLUTES: 6, JARGON: 4, DISMISSIVE: 6, FORMER_NAME: 5, FALSE_CLAIM: 25,
                KEYWORDS: 3}
KEYWORDS_MIN, KEYWORDS_MAX = 3, 15
REPEAT_SENTENCE, REPEAT_PHRASE, REPETITION_MAX = 4, 5, 20
FRUSTRATING = (ABSOLUTES, JARGON, DISMISSIVE, FALSE_CLAIM)
MONOLOGUE_WORDS = 120
FALSE_CLAIM_CAP = 69  # a reply that teaches something wrong is never Strong

BANDS = ((85, "Excellent"), (70, "Strong"), (50, "Developing"), (0, "Needs work"))


@dataclass(frozen=True)
class Criterion:
    """Points earned on one criterion, and the exact words of the reply that earned them."""

    name: str
    points: int
    max: int
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Penalty:
    """Points lost to one do-not rule, quoting the words that triggered it."""

    rule: str
    points: int
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class FalseClaim:
    """A misconception the reply states: the sentence, the claim, the fact and what to read."""

    id: str
    claim: str
    fact: str
    entry: str
    sentence: str


@dataclass(frozen=True)
class Grade:
    """The scorecard of one reply."""

    score: int
    band: str
    criteria: tuple[Criterion, ...]
    penalties: tuple[Penalty, ...]
    suggestions: tuple[str, ...]
    misconceptions: tuple[FalseClaim, ...] = ()

    def criterion(self, name: str) -> Criterion:
        return next(c for c in self.criteria if c.name == name)

    def penalty(self, rule: str) -> Penalty | None:
        return next((p for p in self.penalties if p.rule == rule), None)

    def to_json(self) -> dict[str, object]:
        return {
            "score": self.score,
            "band": self.band,
            "criteria": [{"name": c.name, "points": c.points, "max": c.max,
                          "evidence": list(c.evidence)} for c in self.criteria],
            "penalties": [{"rule": p.rule, "points": p.points, "evidence": list(p.evidence)}
                          for p in self.penalties],
            "suggestions": list(self.suggestions),
            "misconceptions": [{"id": m.id, "claim": m.claim, "fact": m.fact, "entry": m.entry,
                                "sentence": m.sentence} for m in self.misconceptions],
        }


def band_for(score: int) -> str:
    return next(label for floor, label in BANDS if score >= floor)


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


# ---- Connect: sentences that acknowledge the worry ---------------------------------------------

_INT = (r"(?:(?:very|really|completely|totally|entirely|absolutely|perfectly|fully|quite|so"
        r"|fairly|genuinely|truly|such|do|a|an)\s+)*")
_ACK_ADJ = (r"(?:fair|valid|reasonable|understandable|legitimate|good|great|important|natural"
            r"|normal|sensible|smart|sharp|right|excellent|honest|common|real|serious|key|big"
            r"|tough|hard|relevant|justified|healthy|wise|interesting|familiar|fair-minded|solid"
            r"|pertinent|brilliant|crucial|critical|understandable)")
_ACK_NOUN = (r"(?:point|question|concern|worry|challenge|one|call|ask|observation|instinct"
             r"|thing to (?:ask|raise|check|worry about)|place to start|reaction|feeling|finding"
             r"|fear|issue|risk|problem|constraint|standard|caution|priority|position|request"
             r"|word|objection|doubt|thought|experience|situation|pressure|frustration)s?")
# Acknowledgements that open a clause or a part of one ("Totally get it.", "Completely fair.",
# "..., makes sense"), tried where a clause starts; and those that can sit anywhere.
ACK_START = _rx(
    _INT + r"(?:(?:understand|get|hear|appreciate) (?:it|that|this|why|you|where|what|how)"
    r"|see (?:why|what you mean|where you'?re coming from|your point)|appreciate (?:the|your) \w+)"
    r"\b",
    _INT + _ACK_ADJ + r"\s+" + _ACK_NOUN + r"\b",
    _INT + r"(?:fair|valid|reasonable|understandable|understood|fair enough|noted|point taken"
    r"|agreed|got it|true|granted|absolutely)\s*(?:[.!,;:\u2014\u2013]|\s-\s|$)",
    _INT + r"makes?\s+(?:a lot of\s+|total\s+|complete\s+|perfect\s+|good\s+)?sense\b",
)
_SUB_START = re.compile(r"^|[,;:.!?\u2014\u2013(]\s*|\s-\s|\b(?:and|but|so)\s+", re.IGNORECASE)
ACKNOWLEDGE = _rx(
    r"\bI\s+" + _INT + r"(?:understand|appreciate|sympathi[sz]e|empathi[sz]e|feel for you"
    r"|recogni[sz]e (?:that|the|your|how|why)|respect (?:that|the|your)"
    r"|get (?:it|that|this|why|where|how|what|you)|hear (?:you|that|this|what|the|your)"
    r"|see (?:why|what|where|how|that|your|the (?:concern|worry|point|risk)))\b",
    r"\bI can (?:see|understand|imagine|appreciate) (?:why|how|that|what|where|the|your)\b",
    r"\b(?:that'?s|that is|it'?s|it is|this is|these are|those are|what|such)\s+" + _INT
    + _ACK_ADJ + r"\s+(?:\w+\s+)?" + _ACK_NOUN + r"\b",
    r"\b(?:fair|right|wise|smart|reasonable|natural|normal|sensible|understandable"
    r"|sound|valid|healthy)\s+to\s+(?:ask|worry|wonder|question|be|push|want|check|raise"
    r"|challenge|feel|care|expect|demand|insist|probe|test|doubt|hesitate)\b",
    r"\b(?:that|it|this|which)\s+" + _INT
    + r"makes?\s+(?:a lot of\s+|total\s+|complete\s+|perfect\s+|good\s+)?sense\b",
    r"\bthank(?:s| you)\b(?:\s+\w+)?\s+for(?:\s+[\w'-]+){0,4}",
    r"\b(?:I'?m\s+)?glad (?:you|that you) (?:asked|raised|mentioned|said|brought|shared|flagged"
    r"|put|told|explained|pushed|challenged)\b",
    r"\b(?:point|fair point|good point) (?:well )?(?:made|taken)\b",
    r"\byou'?re (?:not|far from) (?:alone|the only|the first)\b",
    r"\b(?:many|most|lots of|a lot of|plenty of|several|other|some)\s+(?:of (?:our|the|my)\s+)?"
    r"(?:\w+\s+)?(?:customers|clients|leaders|CFOs|CISOs|CTOs|CIOs|teams|organi[sz]ations|people"
    r"|companies|banks|retailers|executives|boards|buyers|colleagues)\s+(?:\w+\s+)?(?:feel|felt"
    r"|say|said|ask|asked|raise|raised|share|shared|had|have|start|started|tell|told|come)"
    r"\s+(?:the same|that|this|similar|me|us|with|to me|from)\b",
    r"\bI(?:'d| would)\s+(?:\w+\s+)?(?:feel|be|ask|want|worry|wonder|push)\s+(?:\w+\s+)?"
    r"(?:the same|too|as well|that too|surprised|nervous|worried|cautious|sceptical|skeptical"
    r"|concerned|wary|careful|uneasy|hesitant|on this)\b",
    r"\bin your (?:shoes|position|place|seat|role)\b",
    r"\bthe right (?:question|word|thing to ask|concern|instinct|place to start|standard|call"
    r"|focus|worry|challenge)\b",
    r"\b(?:that|it|this)\s+(?:must|would|can|could|will)\s+(?:\w+\s+)?(?:be|feel|have been"
    r"|sound)\s+(?:\w+\s+)?(?:stressful|frustrating|painful|hard|difficult|worrying|tough"
    r"|nerve-wracking|scary|costly|a headache|a worry|a blow|a nightmare|unsettling)\b",
    r"\b(?:sounds|sounded|must have been|was|is)\s+(?:\w+\s+)?(?:stressful|frustrating|painful"
    r"|nerve-wracking|scary|a nightmare|awful|rough|unsettling)\b",
    r"\bno wonder\b", r"\bfair enough\b", r"\bunderstandabl[ey]\b",
    # agreeing with the customer
    r"\b(?:no argument|no disagreement) (?:from me|there|here)\b",
    r"\byou(?:'re| are) (?:not wrong|absolutely right|quite right|right)\b(?! to\b)",
    r"\byou (?:have|'ve got|make) a (?:\w+ )?point\b", r"\bI (?:\w+ )?agree\b",
    # the worry is worth taking seriously, and common
    r"\b(?:is|are|'s|'re) (?:\w+ )?worth (?:taking seriously|checking|asking|raising|looking"
    r" into|questioning|testing|a close look)\b",
    r"\b(?:comes?|came) up (?:a lot|often|all the time|in (?:most|many|every)|with (?:most|many"
    r"|a lot of|plenty of|almost every))\b",
    r"\bI hear (?:that|it|this) (?:a lot|often|all the time)\b",
    r"\b(?:nobody|no one|no-one) (?:wants|likes|enjoys|needs) (?:to )?(?:a repeat|to relive|to go"
    r" through|that|another|a surprise|to lose|to explain|to pay|to take)\b",
    r"\bI(?:'d| would) (?:\w+ )?(?:push|ask|want|worry|feel) (?:on that |about that |the same )?"
    r"(?:too|as well)\b",
    r"\bif I were (?:in )?(?:you|your (?:shoes|seat|position|place))\b",
)


def _acknowledgement(text: str) -> tuple[int, int] | None:
    """The span of the first acknowledgement in a clause, or None."""
    starts = _combined(ACK_START)
    best: tuple[int, int] | None = None
    for cut in _SUB_START.finditer(text):
        pos = cut.end()
        while pos < len(text) and not text[pos].isalnum():
            pos += 1
        m = starts.match(text, pos)
        if m and m.end() > m.start():
            best = (m.start(), m.end())
            break
    m = _combined(ACKNOWLEDGE).search(text)
    if m and (best is None or m.start() < best[0]):
        best = (m.start(), m.end())
    return best


STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not of off on once only or other our ours ourselves out over own same she should so
some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves i'm i've i'd i'll you're you've we're we've it's that's don't can't won't
isn't aren't doesn't didn't let's there's what's also really honestly frankly actually just like
know think get got one thing things lot way make sure say says said us even still yet want every
everything anything something someone else much many well another cloud aws amazon once again
""".split())


_STOP_STEMS = frozenset(stem(w) for w in STOPWORDS)


@lru_cache(maxsize=16384)
def _stem_set(phrase: tuple[str, ...]) -> frozenset[str]:
    return frozenset(phrase)


@lru_cache(maxsize=16384)
def _loose_stems(phrase: tuple[str, ...]) -> tuple[str, ...]:
    """The content stems of an alias that may match in any order (two or more, else none)."""
    content = tuple(x for x in phrase if x not in _STOP_STEMS)
    return content if len(content) >= 2 else ()


@lru_cache(maxsize=4096)
def _content_stems(text: str) -> frozenset[str]:
    return frozenset(t.stem for t in tokenize(text) if t.lower not in STOPWORDS and len(t.text) > 2
                     and not t.text.isdigit())


# ---- Condense: open clarifying questions -------------------------------------------------------

WH_WORDS = frozenset({"what", "what's", "how", "how's", "which", "where", "where's", "why", "when",
                      "who", "who's", "whom", "whose"})
AUX_WORDS = frozenset({
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "would", "will", "should",
    "shall", "have", "has", "had", "may", "might", "must", "isn't", "aren't", "don't", "doesn't",
    "didn't", "can't", "couldn't", "wouldn't", "won't", "shouldn't", "haven't", "hasn't", "am",
})
FILLERS = frozenset({"so", "and", "but", "then", "first", "firstly", "just", "ok", "okay", "now",
                     "well", "also", "tell", "honestly", "out", "of", "interest", "curious"})
OPEN_REQUEST = _rx(
    r"\b(?:can|could|would) you (?:please )?(?:like to |mind )?(?:tell|describe|explain|share"
    r"|walk|talk|help me|give me|outline|say more|show me)",
    r"\btell me (?:more|about|what|how|why|which|where|a bit|a little)\b",
    r"\bwalk me through\b", r"\bhelp me understand\b",
    r"\bI'?d (?:love|like) to (?:hear|understand|know|learn)\b",
)
# Questions that only look open: rhetorical ("Why would you pay for idle servers?") earn nothing,
# check-backs ("How does that sound?") earn what a closed question earns.
RHETORICAL = _rx(r"\bwhy (?:would|wouldn'?t|would not|on earth|ever) (?:you|anyone|anybody)\b",
                 r"\bwho (?:wouldn'?t|would not|doesn'?t)\b", r"\bwhat'?s not to like\b",
                 r"\bwhy not\b", r"\bwhat (?:are|is) you waiting for\b")
CHECK_BACK = _rx(r"^(?:so,? )?how does (?:that|this) sound\b", r"^(?:so,? )?what do you think\b",
                 r"^(?:so,? )?(?:does )?(?:that|this) make sense\b",
                 r"^(?:so,? )?how do you feel about (?:that|this)\b",
                 r"^(?:so,? )?(?:any|other) questions\b")
EMBEDDED_QUESTION = re.compile(
    r"^\w+ you (?:\w+ )?(?:know|remember|recall|have a sense of|have an idea of|mind telling me"
    r"|mind sharing|happen to know) (?:what|which|how|where|why|when|who)\b", re.IGNORECASE)
CHOICE_QUESTION = re.compile(r"\w\W*\s(?:or|versus|vs\.?)\s+(?!not\b|no\b|otherwise\b)\w",
                             re.IGNORECASE)
ASK_LEAD_IN = re.compile(r"^\W*(?:so,?\s+)?(?:(?:can|could|may) I ask(?: you)?|if I may ask"
                         r"|out of interest|just so I understand|to help me understand),?\s*",
                         re.IGNORECASE)

TOPIC_WORDS = {
    "security": "data secure security protect protection risk compliance audit regulator access "
                "control breach trust privacy encrypt threat safe safety auditor record records "
                "customer customers sensitive",
    "cost": "cost costs spend spending budget bill bills price pricing pay money expensive save "
            "saving savings afford invest investment finance cheaper dollar board justify invoice "
            "hardware servers numbers figures",
    "scalability": "traffic peak load scale users demand capacity busiest spike performance slow "
                   "outage grow growth launch event database sale sales visitors crash down "
                   "viewers checkout orders",
}
CONCERN_WORDS = ("concern concerns worry worries worried priority priorities important matter "
                 "matters risk bother bothers challenge goal goals problem issue pain success "
                 "requirement requirements need needs outcome biggest most mean convince "
                 "convincing evidence proof prove expect expectation result assumption assumptions "
                 "comfortable confidence confident decide decision happen happened today "
                 "currently current part parts first hardest")

# ---- Continue: evidence ------------------------------------------------------------------------

FIGURES = _rx(
    r"(?<![\w.])(?!100\b)\d{1,3}(?:[.,]\d+)?\s?(?:%|percent\b|per cent\b)",
    r"\b(?:by|in|roughly|about|nearly|almost) (?:a )?half\b", r"\bhalved\b",
    r"\b(?:by|about|nearly|almost|roughly) (?:a|one|two)[- ]thirds?\b",
    r"\b\d+(?:\.\d+)?\s?(?:x|times)\b(?! a\b)",
    r"\b(?:two|three|four|five|ten|twenty) times\b",
    r"\b(?:doubled|tripled|twice|double|triple) (?:the |your |last year'?s |that )?"
    r"(?:traffic|load|peak|volume|audience|orders|users|visitors)\b", r"\b(?:doubled|tripled)\b",
    r"[$£€]\s?\d[\d,.]*\s?(?:k|m|million|billion)?\b",
)
CASE_STUDY = _rx(
    r"\bcase stud(?:y|ies)\b",
    r"\breference (?:customer|customers|call|calls|site)\b",
    r"\b(?:customers|companies|organi[sz]ations|businesses|firms|retailers|banks|hospitals"
    r"|agencies|broadcasters|start-?ups|manufacturers|insurers) (?:like|such as)\b",
    r"\bother (?:banks|hospitals|retailers|manufacturers|agencies|departments|broadcasters"
    r"|start-?ups|companies|customers|organi[sz]ations|firms|businesses|insurers|councils)\b",
    r"\b(?:healthcare|health|financial(?:[- ]services)?|banking|public[- ]sector|government"
    r"|retail|media|manufacturing|insurance|gaming|e-?commerce|regulated) (?:customers|companies"
    r"|organi[sz]ations|clients|institutions|agencies)\b",
    r"\b(?:many|some|most|several|other|thousands of|plenty of) (?:of our |of their |other )?"
    r"(?:customers|clients|companies|organi[sz]ations) (?:have|had|run|use|used|cut|saved|reduced"
    r"|moved|migrated|handle|already|do|did|found|see|saw|spend|often|typically|usually)\b",
    r"\bone of our (?:customers|clients)\b",
    r"\banother (?:bank|hospital|retailer|manufacturer|agency|department|broadcaster|start-?up"
    r"|customer|company|firm|business|insurer|council)\b",
    r"\b(?:many|lots of|a lot of|most|several|some|plenty of|thousands of|hundreds of)"
    r" (?:big |large |major |leading |global |small |other |well-known )?(?:banks|hospitals"
    r"|retailers|manufacturers|agencies|broadcasters|start-?ups|insurers|governments"
    r"|enterprises)\b",
    r"\bintroduce you to\b",
)

# ---- Continue: next step -----------------------------------------------------------------------
# A next step is a sentence that proposes (a question that offers or suggests, or a statement that
# commits), with an action verb, and with who or when or a concrete thing to do.

_LEAD = (r"^\W*(?:(?:so|and|then|maybe|perhaps|ok|okay|now|next|also|well|if (?:it|that) helps"
         r"|if you(?:'d)? like|as a (?:first|next) step|from here|to start|for a start"
         r"|to make (?:it|this) concrete|in that case)\W+)*")
PROPOSAL_QUESTION = _rx(
    _LEAD + r"(?:shall|should|can|could|may|might) (?:I|we)\b",
    _LEAD + r"would (?:it|that|this) (?:\w+ )?(?:help|work|be (?:useful|helpful|worth|easier"
    r"|a good)|make sense)\b",
    _LEAD + r"would (?:a|an|some|one|the|two|three) [\w\s,'-]{1,110}?\b(?:help|work|suit|give"
    r"|show|reassure|convince|answer|settle|prove|make|let|cover"
    r"|be (?:a |an )?(?:\w+ )?(?:useful|helpful|worth|good|sensible|worthwhile|next step"
    r"|first step|place to start|start|enough))\b",
    _LEAD + r"would you (?:\w+ )?(?:like|be open|be interested|want|prefer|be up for"
    r"|be willing)\b",
    _LEAD + r"(?:do you )?want (?:me|us) to\b",
    _LEAD + r"(?:how|what) about (?:we|I|a|an|if|setting|booking|running|doing|taking|starting"
    r"|getting|putting|looking|going|trying|testing|scheduling|meeting)\b",
    _LEAD + r"(?:what if|why don'?t) (?:we|I)\b",
    _LEAD + r"are you (?:free|available|open to|up for)\b",
    _LEAD + r"(?:is|does|would) (?:\w+day|next week|this week|tomorrow|\w+ (?:morning|afternoon))"
    r" (?:work|suit)\b",
)
PROPOSAL_STATEMENT = _rx(
    r"\blet'?s\b(?! (?:be honest|face it|say|not)\b)", r"\blet us\b",
    r"\bI(?:'ll| will|'m going to| am going to)\b(?! be\b)",
    r"\bI(?:'d| would) (?:\w+ )?(?:like|love|be happy|be glad) to\b",
    r"\b(?:happy|glad|keen|delighted|willing) to\b",
    r"\bI(?:'d| would)? (?:suggest|propose|recommend)\b",
    r"\bmy (?:suggestion|proposal|recommendation)(?: is| would be|\s*:|\s+-)",
    r"\b(?:one|an|another|the (?:simplest|easiest|best|quickest)) (?:option|idea|possibility"
    r"|approach|way forward|way to start|place to start) (?:is|would be|could be|might be) to\b",
    r"\b(?:I'?m|I am|I was) thinking (?:we|I)\b", r"\bI think (?:we|I) (?:could|should|might)\b",
    r"\b(?:\w+day|next week|this week|tomorrow|\w+ (?:morning|afternoon)) (?:could|would|might)"
    r" work\b",
    r"\b(?:the|a|our|one) (?:good |sensible |simple |natural |practical )?(?:next|first) step"
    r" (?:is|would be|could be|might be|will be)\b",
)
_CLAUSE_SPLIT = re.compile(r"^|[;:,\u2014\u2013]\s*|\s-\s")
# "We can add servers automatically" explains; "we can review it together next week" proposes:
# these count only with a who or a when.
PROPOSAL_IF_CONCRETE = _rx(r"\b(?:we|I) (?:could|can|should|might)\b", r"\blet me\b")
# "let's talk" proposes nothing in particular; "I'll price one workload" does
VAGUE_ACTIONS = frozenset("""
talk discuss chat help think explore look consider connect catch continue keep stay speak touch
follow come get go start do proceed move
""".split())
NON_ACTION = frozenset("""
be am is are was were been being think know understand feel believe hope wonder guess say mean see
assume imagine expect worry promise guarantee tell ask need want
""".split())
TIME = _rx(
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", r"\btomorrow\b", r"\btoday\b",
    r"\b(?:next|this|coming|the next) (?:week|month|quarter|fortnight|few days|couple of weeks)\b",
    r"\bthis (?:afternoon|morning|evening)\b",
    r"\bin (?:a|one|two|three|four|\d+|the next) (?:days?|weeks?|months?)\b",
    r"\bwithin (?:a|one|two|three|\d+|the next) (?:days?|weeks?|months?)\b",
    r"\bbefore (?:the|your|our|peak|next|this|any|we) \w+", r"\bby (?:the )?end of\b",
    r"\b(?:an|one|half an|two|\d+) hours?\b", r"\b\d+ minutes\b", r"\bhalf[- ]day\b",
    r"\b(?:one|two|a)[- ]day\b", r"\bafter (?:the|your) (?:meeting|call|launch|sale|audit)\b",
)
WHO = _rx(
    r"\b(?:with|for) (?:your|our|the|one of our|one of your|some of your|a|an) "
    r"(?:[\w'-]+ ){0,3}?(?:team|teams|colleagues|staff|board|CFO|CISO|CTO|CIO|architects?"
    r"|engineers?|specialists?|experts?|people|finance|security|risk|legal|auditors?|regulator"
    r"|leadership|managers?|owners?|developers?|ops|operations|department|partners?|review"
    r"|approval|sign-off)\b",
    r"\btogether\b", r"\byou and (?:I|me|your)\b", r"\bwith you\b",
    r"\b(?:one of )?our (?:\w+ )?(?:specialists?|architects?|experts?|engineers?|team)\b",
)
STEP_OBJECT = _rx(
    r"\bproof[- ]of[- ]concept\b", r"\bPOC\b", r"\bpilot\b", r"\bworkshop\b", r"\bdemo\b",
    r"\bdemonstration\b", r"\breview\b", r"\bcomparison\b", r"\bassessment\b", r"\bevaluation\b",
    r"\bestimate\b", r"\bsession\b", r"\bcall\b", r"\bmeeting\b", r"\btrial\b", r"\bwhiteboard",
    r"\bdeep[- ]dive\b", r"\bwalk[- ]?through\b", r"\bbusiness case\b", r"\bcost model\b",
    r"\b(?:load|stress)[- ]test", r"\btest plan\b", r"\bplan\b", r"\broadmap\b", r"\btemplate\b",
    r"\breference architecture\b", r"\breports?\b", r"\bchecklist\b", r"\bbriefing\b",
    r"\bgame day\b", r"\brehearsal\b", r"\bdry run\b", r"\bscop(?:e|ing)\b", r"\banalysis\b",
    r"\bcalculation\b", r"\bmodel\b", r"\btest\b", r"\bcase stud(?:y|ies)\b",
)
NAMED_STEP = STEP_OBJECT[:6]  # POC, pilot, workshop, demo: a next step even when only named

# ---- Customer-centred --------------------------------------------------------------------------

YOUR_PHRASE = re.compile(r"\byour(?:\s+own)?\s+([A-Za-z][\w'-]*)(?:\s+([A-Za-z][\w'-]*))?",
                         re.IGNORECASE)
# "your view", "your concern": about the conversation, not the customer's world
NOT_A_CUSTOMER_THING = frozenset("""
aws cloud own word words mind question questions point points concern concerns worry worries view
views thinking opinion opinions assumption assumptions perception perceptions fear fears doubt
doubts nerves instinct instincts mistake mistakes misconception misconceptions take understanding
idea ideas belief beliefs feeling feelings position side way reports report
""".split())
_NOT_A_NOUN = frozenset("""
next last together today tomorrow now there here first directly yourself itself too again
""".split())
LONG_TERM = _rx(
    r"\bover time\b", r"\blong[- ]term\b", r"\bin the long run\b", r"\bas (?:you|they|your \w+) "
    r"(?:grow|grows|expand|expands|scale|scales)\b", r"\bin the future\b", r"\bfuture\b",
    r"\bfor years\b", r"\byear after year\b", r"\bmonth after month\b", r"\bevery year\b",
    r"\bfrom year to year\b", r"\bevery (?:season|peak|audit|review)\b",
    r"\bover the (?:next|coming) (?:few |two |three |five |\d+ )?(?:years?|months?|seasons?)\b",
    r"\b(?:three|five|two|3|5)[- ]years?\b", r"\bmulti-?year\b", r"\broadmap\b",
    r"\bongoing\b", r"\bcontinuously\b", r"\bsustainabl[ey]\b", r"\bdown the road\b",
    r"\bgrowth\b", r"\bas (?:you|the business) grows?\b", r"\bnext year'?s?\b",
)

# ---- Penalties ---------------------------------------------------------------------------------

ABSOLUTE_PATTERNS = _rx(
    r"\bdefinitely\b", r"\bnever\b", r"\bguarantee[sd]?\b", r"\bguaranteeing\b", r"\balways\b",
    r"(?<![\w.])100\s?(?:%|percent\b|per cent\b)", r"\ba hundred percent\b", r"\bimpossible\b",
    r"\btrust me\b", r"\bzero risk\b", r"\bno risk\b", r"\brisk[- ]free\b",
    r"\b(?:completely|totally|perfectly|fully|100%) (?:safe|secure|protected)\b",
    r"\bunhackable\b", r"\bbullet-?proof\b", r"\binfinite(?:ly)?\b", r"\bunlimited\b",
    r"\banything you (?:can )?throw at it\b", r"\bcan(?:'t|not) (?:go down|fail|be hacked)\b",
    r"\bwon'?t (?:ever )?(?:go down|fail|crash)\b", r"\bwithout (?:any )?doubt\b",
    r"\bno doubt\b", r"\babsolutely (?:safe|secure|cheaper|certain|sure)\b",
    r"\bpays? for (?:it|them)sel(?:f|ves)\b", r"\b(?:a|an) \w+ for everything\b",
    # over-promising: no limits, nothing can go wrong, compliance for free
    r"\bno (?:\w+ )?(?:limits?|quotas?|caps?)(?: at all| whatsoever)?\b(?! (?:on|to) (?:how|what))",
    r"\blimitless\b", r"\bwithout (?:any )?limits?\b",
    r"\bcan(?:'t|not) (?:overspend|go over (?:budget|the budget)|run out|be breached)\b",
    r"\bautomatically (?:compliant|secure|safe|protected|certified)\b",
)
DISMISSIVE_PATTERNS = _rx(
    r"\bdon'?t (?:you )?worry\b", r"\bdo not worry\b", r"\bno need to worry\b",
    r"\bnothing to (?:worry about|fear)\b", r"\bnot to worry\b",
    r"\bjust (?:use|move|put|turn on|switch|enable|spin up|add|migrate|lift|click|trust)\b",
    r"\bsimply\b", r"\b(?:everyone|everybody)(?:'s| is| does| uses| saves| knows| agrees| moves"
    r"| else| has moved| is moving| is doing| does it)\b", r"\blike (?:everyone|everybody)\b",
    r"\bno problem\b", r"\bobviously\b",
    r"\bof course\b", r"\bit'?s (?:really |very )?(?:easy|simple|trivial)\b", r"\btrivial\b",
    r"\bcalm down\b", r"\brelax\b", r"\bthat'?s a myth\b", r"\bthat'?s not true\b",
    r"\bnot an issue\b", r"\bnon-?issue\b", r"\bno big deal\b",
    r"\boutdated (?:thinking|view|idea)\b", r"\bparanoid\b", r"\boverthinking\b",
    r"\bnot a (?:problem|concern)\b",
    # judging the customer or their view instead of exploring it
    r"\byou(?:'re| are)\s+(?!not\b|never\b|hardly\b)(?:\w+\s+)?(?:wrong|mistaken|misinformed"
    r"|misguided|confused|overreacting"
    r"|worrying too much|worrying for nothing|being paranoid|behind the times|out of date)\b",
    r"\byou(?:'ve| have) (?:been misinformed|got it wrong|got that wrong|misunderstood)\b",
    r"\b(?:your|that|this|the|those|these)\s+(?:\w+\s+)?(?:view|views|thinking|idea|ideas"
    r"|concern|concerns|worry|worries|fear|fears|perception|assumption|assumptions|belief"
    r"|beliefs|information|info|report|reports|numbers|picture|opinion|understanding|take"
    r"|mindset|objection)\s+(?:is|are|was|were|seems?|sounds?|looks?)\s+(?:\w+\s+){0,4}?"
    r"(?:outdated|out of date|old-fashioned|dated|old news|wrong|mistaken|incorrect|inaccurate"
    r"|misguided|misinformed|misplaced|unfounded|overblown|exaggerated|overstated|irrational"
    r"|baseless|behind the times|a myth|a thing of the past|nonsense|silly|naive|paranoid"
    r"|not accurate|not valid|not true|not right|leftover|relic|hangover)\b",
    # making the worry small, or telling the customer it will pass
    r"\b(?:not|isn'?t|is not|hardly|never)\s+(?:really\s+|actually\s+)?(?:a\s+|an\s+)?"
    r"(?:real|actual|genuine|big|serious)\s+(?:risk|problem|issue|concern|worry)\b",
    r"\bmore (?:of )?(?:a|an) (?:\w+ )?(?:mindset|perception|culture|feeling|psychological"
    r"|emotional|people|comfort) (?:thing|issue|problem|shift|question)\b",
    r"\b(?:is|are|was|were|mostly|just|only|really|purely|simply)\s+(?:mostly |just |only "
    r"|really |purely |simply )?(?:a |an )?(?:\w+ )?(?:perception|mindset|legacy|on-premises"
    r"|on-prem|old-school|psychological|emotional) (?:problem|issue|thing|worry)s?\b",
    r"\bI(?:'d| would)?\s+(?:really |honestly |personally |just )?(?:wouldn'?t|would not|don'?t"
    r"|do not) (?:worry|lose (?:any )?sleep|get (?:too )?hung up|read (?:too much|anything) into"
    r"|dwell|bother|stress)\b",
    r"\blet'?s not (?:dwell|worry|get hung up|go over|look back)\b",
    r"\b(?:isn'?t|is not|not) (?:something|anything) (?:you|we) (?:really )?(?:need|have) to "
    r"(?:think|worry) about\b",
    r"\bwith a (?:pinch|grain) of salt\b",
    r"\b(?:sorts?|takes? care of|pays? for|fix(?:es)?|solves?) (?:it|them)sel(?:f|ves)(?: out)?\b",
    r"\b(?:something|a question|a topic|a conversation) for (?:later|another day|another time)\b",
    r"\b(?:that|it|this|the problem|those problems|that kind of thing|which) (?:just |simply "
    r"|all |soon )?(?:goes|go|disappears?|vanish(?:es)?|melts?) away\b",
    r"\bmoved (?:past|on from|beyond) (?:it|that|this|those)\b",
    r"\brather than (?:go over|going over|dwell on|dwelling on|look back at|revisit|talk about)"
    r" (?:the past|last year|that|what happened)\b",
    r"\b(?:slow us down|hold us back)\b",
    r"\b(?:where the real|the (?:really )?(?:exciting|fun|interesting)) (?:excitement|opportunity"
    r"|value|fun|action|part)\b",
    r"\b(?:I'?d|I would|we'?d|we would) (?:\w+ )?(?:love|like|rather|prefer) to (?:talk|focus"
    r"|show you|move|discuss|spend (?:the|our) time)\b[^.?!]*\binstead\b",
    r"\b(?:everyone|everybody) (?:who|that) \w+",
    r"\b(?:was|were|has been|have been|is|are) (?:long |already |largely )?(?:settled|solved"
    r"|a solved problem|put to bed|a closed question)\b",
    r"\b(?:the|that|this|your|those|any) (?:\w+ )?(?:worry|worries|concern|concerns|fear|fears"
    r"|nerves|doubts?|anxiety|scepticism|skepticism|hesitation)\s+(?:will|would|should|'ll)\s+"
    r"(?:\w+\s+)?(?:fade|go away|disappear|pass|vanish|melt away|evaporate|subside)\b",
    r"\b(?:take|cross|strike|scratch) (?:it|that|this) off (?:your|the) (?:\w+ )?list\b",
    r"\bwill come (?:round|around)\b", r"\byou'?ll (?:soon )?get used to it\b",
    r"\byou'?ll be (?:just )?(?:fine|ok|okay|alright|all right)\b",
    # putting the concern aside or changing the subject
    r"\b(?:park|shelve|set aside|put aside|leave aside|skip|defer) (?:the |this |that |your )?"
    r"(?:\w+ )?(?:question|concern|worry|issue|topic|point|security|cost|costs|scalability"
    r"|it|that)(?: for (?:now|today|later|the moment))?\b",
    r"\b(?:let'?s|I'?d|we can|we could) (?:just )?(?:park|skip|move on|set (?:it|that) aside"
    r"|not worry about)\b",
    r"\b(?:tell|talk to|show) you about (?:our|the|some) (?:new|latest|other|exciting)\b",
    r"\binstead\s*\?",
    # over-promising that hides the customer's share of the work (shared responsibility)
    r"\b(?:handles|takes care of|does|covers) (?:absolutely )?everything\b",
    r"\b(?:it'?s|it is) all (?:handled|taken care of|done) for you\b",
    r"\byou (?:don'?t|do not|won'?t|will not) (?:have|need) to (?:do|worry about) "
    r"(?:anything|a thing)\b", r"\bnothing for you to do\b",
    r"\bnothing (?:needs|to|you need to|has to) (?:be )?(?:plan|planned|planning|configure"
    r"|configured|test|tested|do|done|change|changed)\b",
    r"\bwithout (?:you |your team )?(?:configuring|planning|testing|doing|changing|setting up)"
    r" (?:anything|a thing)\b",
)
ACRONYM_RE = re.compile(r"\b[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*\b")
COMMON_ACRONYMS = frozenset("""
AWS I OK US USA UK EU UN IT CEO CFO CTO CIO CISO COO CMO VP HR PR AI ML API APIs PDF FAQ ASAP
TV PM AM GDPR ID IDs GB TB PB MB KB GE QA IoT DR CRM ERP SaaS B2B B2C ROI KPI KPIs BBC NHS
""".split())


def _hits(patterns: tuple[re.Pattern[str], ...], text: str) -> list[tuple[int, int]]:
    """Non-overlapping matches, leftmost first and longest there; a match inside a hyphenated
    compound ("always-on systems") is not the word itself."""
    kept: list[tuple[int, int]] = []
    combined = _combined(patterns)
    pos = 0
    while pos <= len(text):
        m = combined.search(text, pos)
        if m is None:
            break
        a = m.start()
        b = max(x.end() for x in (p.match(text, a) for p in patterns) if x is not None)
        if b <= a:
            pos = a + 1
            continue
        pos = b
        if (a > 0 and text[a - 1] == "-" and text[a].isalnum()) or \
                (b < len(text) and text[b] == "-" and text[b - 1].isalnum()):
            continue
        kept.append((a, b))
    return kept


def _search(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    """The earliest match of any of `patterns` (the first pattern wins a tie)."""
    return _combined(patterns).search(text)


_COMBINED: dict[int, tuple[tuple[re.Pattern[str], ...], re.Pattern[str]]] = {}


def _combined(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str]:
    hit = _COMBINED.get(id(patterns))
    if hit is None or hit[0] is not patterns:
        # patterns that start at a word boundary share it, so most positions fail at once
        bounded = [p.pattern[2:] for p in patterns if p.pattern.startswith(r"\b")]
        other = [p.pattern for p in patterns if not p.pattern.startswith(r"\b")]
        parts = ([r"\b(?:" + "|".join(f"(?:{x})" for x in bounded) + ")"] if bounded else [])
        parts += [f"(?:{x})" for x in other]
        joined = re.compile("|".join(parts), re.IGNORECASE)
        hit = (patterns, joined)
        _COMBINED[id(patterns)] = hit
    return hit[1]


def penalised_words(text: str) -> list[str]:
    """The absolutes and dismissive phrases of `text`: coaching never suggests them."""
    return [text[a:b] for a, b in _hits(ABSOLUTE_PATTERNS + DISMISSIVE_PATTERNS, text)]


# ---- what a scenario contributes, computed once per scenario -----------------------------------


@dataclass(frozen=True)
class _Vocab:
    concepts: tuple[tuple[Concept, tuple[tuple[str, ...], ...]], ...]
    evidence: tuple[tuple[Evidence, tuple[tuple[str, ...], ...]], ...]
    topic_stems: frozenset[str]
    alias_words: frozenset[str]
    concern_stems: frozenset[str]
    example_question: str
    # each jargon term with its pattern in the customer's words and in the reply
    jargon: tuple[tuple[Jargon, re.Pattern[str], re.Pattern[str]], ...] = ()


_VOCAB: dict[int, tuple[Scenario, _Vocab]] = {}


def _vocab(scenario: Scenario) -> _Vocab:
    hit = _VOCAB.get(id(scenario))
    if hit is not None and hit[0] is scenario:
        return hit[1]
    concepts = tuple((c, tuple(s for s in (phrase_stems(a) for a in c.aliases) if s))
                     for c in scenario.concepts)
    evidence = tuple((e, tuple(s for s in (phrase_stems(a) for a in e.aliases) if s))
                     for e in scenario.evidence)
    aliases = list(_all_aliases(scenario))
    topic = ({stem(w) for words_ in TOPIC_WORDS.values() for w in words_.split()}
             | {stem(w) for w in CONCERN_WORDS.split()}
             | _content_stems(" ".join(scenario.hidden_concern.keywords))
             | _content_stems(" ".join(aliases)))
    concern = _content_stems(" ".join(scenario.hidden_concern.keywords) + " "
                             + scenario.hidden_concern.reveal)
    jargon = []
    for item in scenario.jargon:
        term = re.escape(item.term)
        cased = item.term.isupper() or any(c.isupper() for c in item.term[1:])
        jargon.append((item, re.compile(rf"(?<!\w){term}(?!\w)", re.IGNORECASE),
                       re.compile(rf"(?<!\w){term}(?!\w)", 0 if cased else re.IGNORECASE)))
    vocab = _Vocab(concepts, evidence, frozenset(topic),
                   frozenset(w for a in aliases for w in a.split()), concern,
                   _first_open_question(scenario), tuple(jargon))
    if len(_VOCAB) > 512:
        _VOCAB.clear()
    _VOCAB[id(scenario)] = (scenario, vocab)
    return vocab


def _all_aliases(scenario: Scenario) -> Iterable[str]:
    for concept in scenario.concepts:
        yield from concept.aliases
    for item in scenario.evidence:
        yield from item.aliases


def _first_open_question(scenario: Scenario, answer: str = "") -> str:
    structure = analyse(answer or scenario.model_answers.opening)
    for s in structure.sentences:
        if s.question and _question_kind(s.text) == "open":
            return s.text
    return "What worries you most about it?"


def _default_customer_words(scenario: Scenario, turn: str) -> str:
    if turn == "concern":
        return f"{scenario.opening_line} {scenario.hidden_concern.reveal}"
    return scenario.opening_line


# ---- sentence moves ----------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _question_kind(sentence: str) -> str:
    """open | closed | proposal | rhetorical, for a sentence that asks."""
    is_request = _search(OPEN_REQUEST, sentence) is not None
    head = ASK_LEAD_IN.sub("", sentence)
    clause = re.split(r"[;:\u2014\u2013]|\s-\s|,\s(?=(?:what|how|which|where|why|when|who)\b)",
                      head, flags=re.IGNORECASE)
    head_clause = next((c for c in clause if re.search(r"[A-Za-z]", c)), head)
    start = [t.lower for t in tokenize(head_clause)]
    while start and start[0] in FILLERS:
        start = start[1:]
    first = start[0] if start else ""
    stripped = " ".join(start)
    lowered = [t.lower for t in tokenize(sentence)]
    if _search(RHETORICAL, sentence):
        return "rhetorical"
    if _search(CHECK_BACK, stripped):
        return "closed"
    if is_request:
        return "open"
    if _search(PROPOSAL_QUESTION, head_clause.strip()):
        return "proposal"
    if first in WH_WORDS:
        return "open"
    if first in AUX_WORDS:
        # "Do you know which part failed?" asks an open question inside a closed one; "Is it the
        # web servers or the database?" offers the customer a choice to explain
        if EMBEDDED_QUESTION.search(stripped) or CHOICE_QUESTION.search(head):
            return "open"
        return "closed"
    if any(w in WH_WORDS for w in lowered):
        return "open"
    return "closed"


@dataclass(frozen=True)
class _Question:
    text: str
    kind: str  # "open", "closed", "proposal" or "rhetorical"
    on_topic: bool


@lru_cache(maxsize=8192)
def _step_points(sentence: str, verb: bool = True) -> int:
    """15 for a proposal with an action and a who/when/concrete step, 8 for a vague proposal,
    5 for naming a proof of concept, pilot, workshop or demo without proposing it (in a sentence
    with a verb), else 0."""
    concrete_, vague, named = STEP_POINTS["concrete"], STEP_POINTS["vague"], STEP_POINTS["named"]
    named = named if verb else 0
    concrete = bool(_search(TIME + WHO, sentence)) or bool(_search(STEP_OBJECT, sentence))
    end = -1
    if sentence.rstrip(" \"')").endswith("?"):
        for cut in _CLAUSE_SPLIT.finditer(sentence):  # "Next Tuesday could work; shall I ...?"
            found = _search(PROPOSAL_QUESTION, sentence[cut.end():])
            if found:
                end = cut.end() + found.end()
                break
    if end < 0:
        statement = _search(PROPOSAL_STATEMENT, sentence)
        end = statement.end() if statement else -1
    if end < 0:
        if_concrete = _search(PROPOSAL_IF_CONCRETE, sentence)
        if verb and if_concrete and _search(TIME + WHO, sentence) and \
                _action_after(sentence, if_concrete.end()):
            return concrete_
        return named if _search(NAMED_STEP, sentence) else 0
    action = _action_after(sentence, end)
    if not action:
        return named if _search(NAMED_STEP, sentence) else 0
    return concrete_ if concrete or action not in VAGUE_ACTIONS else vague


_SKIP_BEFORE_VERB = frozenset("""
just also perhaps maybe quickly then first together both all gladly happily simply briefly
""".split())


def _action_after(sentence: str, pos: int) -> str:
    """The action a proposal goes on to ("set up", "book", "invite"; "" for "be honest" or "think
    about it"). After "could we", "let's", "I'll" or "want me to", the next word is the verb;
    after "would a workshop help" or "I'd suggest", the help or the suggestion is the action."""
    head = sentence[:pos].lower()
    if re.search(r"\b(?:help|work|suit|useful|helpful|worth|sense|good|sensible|worthwhile"
                 r"|step|start|like|open|interested|up for|willing|prefer|want|give|show"
                 r"|reassure|convince|answer|settle|prove|make|let|cover|enough)\W*$", head) or \
            re.search(r"\b(?:suggest|propose|recommend|suggestion|proposal|recommendation|work"
                      r"|step (?:is|would be|could be|might be|will be))\W*$", head):
        return "suggest"
    for w in words(sentence[pos:])[:4]:
        low = w.lower
        if low in _SKIP_BEFORE_VERB or low in {"to", "we", "i", "you", "me", "us"}:
            continue
        if low in NON_ACTION or low in FUNCTION_WORDS:
            return ""
        return low
    return ""


# ---- the grader --------------------------------------------------------------------------------


def _questions(structure: Structure, raw: str, scenario: Scenario,
               customer_words: str) -> list[_Question]:
    topic = _vocab(scenario).topic_stems | _content_stems(customer_words)
    found: list[_Question] = []
    for s in structure.sentences:
        if s.duplicate:
            continue
        is_request = _search(OPEN_REQUEST, s.text) is not None
        if not s.question and not is_request:
            continue
        ws = words(s.text)
        if not s.verb and (len(ws) < 3 or not any(w.lower in WH_WORDS for w in ws)):
            continue  # "Trust? Control?" is not a question anyone can answer
        kind = _question_kind(s.text)
        on_topic = bool({t.stem for t in tokenize(s.text)} & topic)
        start = next((c.start for c in s.clauses if c.verb), s.start)
        found.append(_Question(raw[start:s.end], kind, on_topic))
    return found


def is_good_clarifying_question(reply: str, scenario: Scenario, customer_words: str = "") -> bool:
    """Whether the reply asks an open, on-topic question (what/how/which/tell me ...) that would
    lead the customer to reveal the hidden concern. Proposals, rhetorical and yes/no questions do
    not count. `customer_words` defaults to the scenario's opening objection."""
    words_ = customer_words.strip() or scenario.opening_line
    return any(q.kind == "open" and q.on_topic
               for q in _questions(analyse(reply), reply, scenario, words_))


class _Grading:
    """One grading run: the reply, the scenario, and the criteria and penalties found so far."""

    def __init__(self, reply: str, scenario: Scenario, turn: str, customer_words: str,
                 former_names: Mapping[str, str]) -> None:
        self.raw = reply
        self.text = Text(reply)
        self.stem_set = frozenset(self.text.positions)
        self.structure = analyse(reply)
        self.scenario = scenario
        self.vocab = _vocab(scenario)
        self.turn = turn
        self.customer_words = customer_words
        self.former_names = former_names
        self.criteria: list[Criterion] = []
        self.penalties: list[Penalty] = []
        self.suggestions: list[str] = []
        self.penalty_advice: list[str] = []
        self.blocked: list[tuple[int, int]] = []  # spans of penalised words: they earn nothing
        self.false_sentences: set[int] = set()
        self.findings: list[Finding] = []

    # -- helpers --
    def add(self, name: str, points: int, evidence: Iterable[str],
            maxima: Mapping[str, int] = MAXIMA) -> None:
        maximum = maxima[name]
        self.criteria.append(Criterion(name, max(0, min(points, maximum)), maximum,
                                       tuple(dict.fromkeys(e for e in evidence if e))))

    def quote(self, s: Sentence) -> str:
        return self.raw[s.start:s.end]

    def _blocked(self, a: int, b: int) -> bool:
        return any(a < y and x < b for x, y in self.blocked)

    def explains(self, start: int, end: int, proposals: bool = False) -> bool:
        """Whether words at start..end sit in a sentence that states something: it has a verb,
        it is not a clarifying question, a repeat, a keyword list or a false claim."""
        if self._blocked(start, end):
            return False
        s = self.structure.sentence_at(start)
        if s is None or s.duplicate or not s.verb:
            return False
        if s.start in self.false_sentences:
            return False
        if s.question and not (proposals and _question_kind(s.text) == "proposal"):
            return False
        clause = s.clause_at(start)
        return clause is None or clause.says

    def _positive(self, stems_list: Sequence[tuple[str, ...]], proposals: bool = True,
                  ) -> Match | None:
        present = self.stem_set
        best: Match | None = None
        for stems_ in stems_list:
            if not _stem_set(stems_) <= present:  # cheap pruning: a word of it is missing
                continue
            for m in self.text.find_stems(stems_):
                if m.negated or not self.explains(m.start, m.end, proposals):
                    continue
                if best is None or (m.start, -m.end) < (best.start, -best.end):
                    best = m
        if best is None:
            for stems_ in stems_list:
                if not _stem_set(_loose_stems(stems_)) <= present:
                    continue
                loose = self._loose(stems_, proposals)
                if loose is not None and (best is None or loose.start < best.start):
                    best = loose
        return best

    def _loose(self, phrase: tuple[str, ...], proposals: bool) -> Match | None:
        """A phrase's content words close together in one clause, in any order: "AWS secures the
        infrastructure" is also said as "the infrastructure is AWS's to secure"."""
        content = _loose_stems(phrase)
        if not content:
            return None
        positions = self.text.positions
        tokens = self.text.tokens
        for i in positions[content[0]]:
            span = [i]
            for c in content[1:]:
                near = [j for j in positions[c] if abs(j - i) <= LOOSE_WINDOW and j not in span]
                if not near:
                    break
                span.append(min(near, key=lambda j: abs(j - i)))
            else:
                first, last = min(span), max(span)
                start, end = tokens[first].start, tokens[last].end
                s = self.structure.sentence_at(start)
                clause = s.clause_at(start) if s else None
                if clause is None or end > clause.end or self.text.negated_at(first, last):
                    continue
                if self.explains(start, end, proposals):
                    return Match(start, end, self.raw[start:end], False)
        return None

    def _in_sentences(self, patterns: tuple[re.Pattern[str], ...], proposals: bool = True,
                      ) -> list[Match]:
        out = []
        for a, b in _hits(patterns, self.text.clean):
            if self.explains(a, b, proposals):
                out.append(Match(a, b, self.raw[a:b], False))
        return out

    # ---- penalties: first, so that penalised words earn nothing ----
    def penalise(self, rule: str, points: int, evidence: list[str], advice: str) -> None:
        if points:
            self.penalties.append(Penalty(rule, -points, tuple(evidence)))
            line = advice if advice.lower().startswith("try:") else f"Try: {advice}"
            if line not in self.penalty_advice:
                self.penalty_advice.append(line)

    def false_claims(self) -> None:
        misconceptions = getattr(self.scenario, "misconceptions", ())
        if not misconceptions or not self.raw.strip():
            return
        self.findings = find_misconceptions(self.raw, misconceptions)
        if not self.findings:
            return
        for finding in self.findings:
            for s in self.structure.sentences:
                if finding.sentence and (finding.sentence in self.quote(s)
                                         or self.quote(s) in finding.sentence):
                    self.false_sentences.add(s.start)
        quotes = list(dict.fromkeys(f.sentence for f in self.findings))
        facts = "; ".join(dict.fromkeys(f"{f.misconception.fact} (read: {f.misconception.entry})"
                                        for f in self.findings))
        self.penalise(FALSE_CLAIM, PENALTY_EACH[FALSE_CLAIM] * len(quotes), quotes,
                      f"correct what you said: {facts}")

    def absolutes(self) -> None:
        spans = _hits(ABSOLUTE_PATTERNS, self.text.clean)
        found = [self.raw[a:b] for a, b in spans]
        self.blocked += spans
        quoted = ", ".join(f'"{w}"' for w in dict.fromkeys(found))
        self.penalise(ABSOLUTES, PENALTY_EACH[ABSOLUTES] * len(found), found,
                      f"replace absolutes ({quoted}) with measured language such as \"designed "
                      "to\", \"customers typically see\" or \"we can test it together\".")

    def dismissive(self) -> None:
        spans = _hits(DISMISSIVE_PATTERNS, self.text.clean)
        found = [self.raw[a:b] for a, b in spans]
        self.blocked += spans
        quoted = ", ".join(f'"{w}"' for w in dict.fromkeys(found))
        self.penalise(DISMISSIVE, PENALTY_EACH[DISMISSIVE] * len(found), found,
                      f"take the worry seriously instead of brushing it off ({quoted}); ask what "
                      "is behind it.")

    def jargon(self) -> None:
        customer = self.customer_words
        raw = self.text.clean
        hits: dict[str, str] = {}  # term -> plain meaning
        spans: list[tuple[int, int]] = []
        for item, heard, said in self.vocab.jargon:
            if heard.search(customer):
                continue
            term = item.term
            for m in said.finditer(raw):
                if not _spelled_out(raw, m.start(), m.end(), term, item.meaning):
                    hits.setdefault(m.group(0), item.meaning)
                    spans.append((m.start(), m.end()))
        listed = {j.term.lower() for j in self.scenario.jargon}
        exempt = self.vocab.alias_words
        for m in ACRONYM_RE.finditer(raw):
            word = m.group(0)
            singular = word[:-1] if word.endswith("s") else word
            if (word in COMMON_ACRONYMS or singular in COMMON_ACRONYMS
                    or word.lower() in listed or word in exempt
                    or not _looks_like_acronym(word)):
                continue
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", customer):
                continue
            if _spelled_out(raw, m.start(), m.end(), word, ""):
                continue
            hits.setdefault(word, "")
            spans.append((m.start(), m.end()))
        self.blocked += spans
        found = list(hits)
        if found:
            plain = [f'"{meaning}" rather than "{term}"' for term, meaning in hits.items()
                     if meaning][:2]
            advice = ("use words the customer used: "
                      + ("say " + " and ".join(plain) + ", or " if plain else "")
                      + "spell a term out the first time, e.g. \"AWS Key Management Service "
                        "(KMS)\".")
            self.penalise(JARGON, PENALTY_EACH[JARGON] * len(found), found, advice)

    def former(self) -> None:
        if not self.former_names:
            return
        found = [Match(m.start(), m.end(), self.text.quote(m.start(), m.end()), False)
                 for m in _names_regex(self.former_names).finditer(self.text.clean)]
        false = [s for s in self.structure.sentences if s.start in self.false_sentences]
        found = [f for f in found if not any(s.start <= f.start < s.end for s in false)]
        if not found:
            return  # a retired name stated as current is already a false claim
        found.sort(key=lambda f: f.start)
        self.blocked += [(f.start, f.end) for f in found]
        lower = {k.lower(): v for k, v in self.former_names.items()}
        renames = [f'"{lower[f.text.lower()]}" (not "{f.text}")' for f in found
                   if f.text.lower() in lower]
        self.penalise(FORMER_NAME, PENALTY_EACH[FORMER_NAME] * len(found),
                      [f.text for f in found],
                      "use current service names: " + ", ".join(dict.fromkeys(renames)) + ".")

    def keywords(self) -> None:
        """Lists of terms and verbless fragments: words without a sentence around them."""
        items = 0
        quotes: list[str] = []
        for clause in self.structure.fragments():
            if _is_acknowledgement(clause.text):
                continue
            n = clause.items or self._terms_in(clause.text)
            if n:
                items += n
                quotes.append(self.raw[clause.start:clause.end].strip(" .!?"))
        if items < KEYWORDS_MIN:
            return
        points = min(KEYWORDS_MAX, PENALTY_EACH[KEYWORDS] * items)
        self.penalise(KEYWORDS, points, quotes[:4],
                      "say it in sentences: a list of terms doesn't explain anything to the "
                      "customer. Pick the one or two points that matter to them and say what "
                      "each does for them.")

    def _terms_in(self, fragment: str) -> int:
        """1 when a verbless fragment names something (a concept, evidence, an acronym, a figure,
        "your ..."), else 0 ("Absolutely." is not a keyword)."""
        ws = words(fragment)
        if not ws:
            return 0
        stems_ = {stem(w.lower.lstrip("#")) for w in ws}
        if stems_ & _content_stems(" ".join(self.vocab.alias_words)):
            return 1
        if any(w.capital and i > 0 or w.text.isupper() and len(w.text) > 1 or w.hashtag
               or any(c.isdigit() for c in w.text) for i, w in enumerate(ws)):
            return 1
        return 1 if re.search(r"\byour\b|\blong[- ]term\b", fragment, re.IGNORECASE) else 0

    def repetition(self) -> None:
        repeats: dict[int, int] = {}
        for s in self.structure.sentences:
            if s.duplicate:
                repeats[s.duplicate_of] = repeats.get(s.duplicate_of, 1) + 1
        phrases = repeated_phrases(self.structure)
        if not repeats and not phrases:
            return
        evidence = [self.quote(self.structure.sentences[i]) for i in repeats]
        evidence += [phrase for phrase, _ in phrases]
        extra = sum(n - 1 for n in repeats.values())
        points = min(REPETITION_MAX, REPEAT_SENTENCE * extra + REPEAT_PHRASE * len(phrases))
        said = [f'"{_short(self.quote(self.structure.sentences[i]), 50)}" {n} times'
                for i, n in repeats.items()]
        said += [f'"{phrase}" {n} times' for phrase, n in phrases]
        self.penalise(REPETITION, points, evidence,
                      f"say each point once ({', '.join(said[:3])}); repeating it adds length, "
                      "not weight.")

    def monologue(self) -> None:
        words_ = self.text.words()
        if words_ <= MONOLOGUE_WORDS:
            return
        points = 5 if words_ <= 160 else 10 if words_ <= 200 else 15
        self.penalise(MONOLOGUE, points, [f"{words_} words"],
                      f"keep a reply under about {MONOLOGUE_WORDS} words (this one has {words_}) "
                      "and let the customer talk.")

    # ---- criteria ----
    def connect(self, maxima: Mapping[str, int] = MAXIMA) -> tuple[int, bool]:
        echoed = self._echoed()
        acks = self._acknowledgements() or self._restatement()
        scale = maxima[CONNECT] / MAXIMA[CONNECT]
        points = round(12 * scale) if acks else 0
        evidence = acks[:2]
        if len(echoed) >= 2:
            points += round(8 * scale)
        elif echoed:
            points += round(4 * scale)
        evidence += list(echoed.values())[:4]
        self.add(CONNECT, points, evidence, maxima)
        return len(acks), len(echoed) >= 2

    def _acknowledgements(self) -> list[str]:
        found: list[str] = []
        for s in self.structure.sentences:
            if s.duplicate:
                continue
            for clause in s.clauses:
                if clause.keyword_list:
                    continue
                span = _acknowledgement(clause.text[:ACK_SPAN])
                if span and not self._blocked(clause.start + span[0], clause.start + span[1]):
                    a, b = clause.start + span[0], clause.start + span[1]
                    found.append(self.raw[a:b].strip(" ,.;:!-\u2014\u2013"))
        return found

    def _restatement(self) -> list[str]:
        """A statement that opens the reply by putting the customer's worry in the learner's own
        words ("Crawling pages on Black Friday don't just lose the sale") acknowledges it."""
        customer = _content_stems(self.customer_words)
        for s in self.structure.sentences[:2]:
            if s.question or s.duplicate or not s.verb or self._blocked(s.start, s.end):
                continue
            if len(_content_stems(s.text) & customer) >= RESTATE_WORDS:
                return [self.quote(s)]
        return []

    def _echoed(self) -> dict[str, str]:
        customer = _content_stems(self.customer_words)
        echoed: dict[str, str] = {}
        for token in self.text.tokens:
            if token.lower in STOPWORDS or len(token.text) <= 2 or token.stem not in customer:
                continue
            if token.stem in echoed or self._blocked(token.start, token.end):
                continue
            s = self.structure.sentence_at(token.start)
            if s is None or s.duplicate or not s.verb:
                continue
            clause = s.clause_at(token.start)
            if clause is not None and not clause.says and not _is_acknowledgement(clause.text):
                continue
            echoed[token.stem] = token.text
        return echoed

    def condense(self, maxima: Mapping[str, int] = MAXIMA) -> list[_Question]:
        questions = _questions(self.structure, self.raw, self.scenario, self.customer_words)
        open_on = [q for q in questions if q.kind == "open" and q.on_topic]
        open_off = [q for q in questions if q.kind == "open" and not q.on_topic]
        closed = [q for q in questions if q.kind == "closed"]
        scale = maxima[CONDENSE] / MAXIMA[CONDENSE]
        if open_on:
            self.add(CONDENSE, maxima[CONDENSE], [open_on[0].text], maxima)
        elif open_off:
            self.add(CONDENSE, round(12 * scale), [open_off[0].text], maxima)
        elif closed:
            self.add(CONDENSE, round(8 * scale), [closed[0].text], maxima)
        else:
            self.add(CONDENSE, 0, [], maxima)
        return questions

    def concepts(self) -> list[Concept]:
        covered = 0
        evidence: list[str] = []
        missing: list[Concept] = []
        enumerations: set[int] = set()
        for concept, aliases in self.vocab.concepts:
            match = self._positive(aliases)
            if match is not None:
                clause = self._long_enumeration(match.start)
                if clause is not None:
                    if clause in enumerations:
                        missing.append(concept)
                        continue  # a feature list names things; it explains one at most
                    enumerations.add(clause)
                covered += concept.weight
                evidence.append(match.text)
            else:
                missing.append(concept)
        # depth before breadth: the first concepts explained earn the most
        target = self.scenario.coverage_target
        points = round(MAXIMA[CONCEPTS] * min(1.0, covered / target) ** 0.5) if target else 0
        self.add(CONCEPTS, points, evidence)
        return missing if covered < target else []

    def _long_enumeration(self, pos: int) -> int | None:
        s = self.structure.sentence_at(pos)
        clause = s.clause_at(pos) if s else None
        if clause is not None and clause.enumeration and clause.items >= 6:
            return clause.start
        return None

    def evidence(self) -> Evidence | None:
        found: list[Match] = []
        first_missing: Evidence | None = None
        for item, aliases in self.vocab.evidence:
            match = self._positive(aliases)
            if match is not None:
                found.append(match)
            elif first_missing is None:
                first_missing = item
        found += self._in_sentences(FIGURES)
        found += self._in_sentences(CASE_STUDY)
        distinct: list[Match] = []
        for match in sorted(found, key=lambda m: (m.start, -m.end)):
            if all(match.end <= d.start or match.start >= d.end for d in distinct):
                distinct.append(match)
        points = 10 if len(distinct) >= 2 else 7 if distinct else 0
        self.add(EVIDENCE, points, [m.text for m in distinct])
        if len(distinct) >= 2:
            return None
        return first_missing or (self.scenario.evidence[0] if self.scenario.evidence else None)

    def next_step(self) -> int:
        best, quote = 0, ""
        for s in self.structure.sentences:
            if s.duplicate or self._blocked(s.start, s.end):
                continue
            if any(c.keyword_list for c in s.clauses):
                continue
            if s.question and _question_kind(s.text) in ("open", "rhetorical"):
                continue
            points = _step_points(s.text, s.verb)
            if points and points >= best:  # the last proposal wins a tie: next steps come last
                best, quote = points, self.quote(s)
        self.add(NEXT_STEP, best, [quote])
        return best

    def customer(self) -> tuple[int, bool]:
        phrases: dict[str, str] = {}
        for m in YOUR_PHRASE.finditer(self.text.clean):
            word = m.group(1).lower().rstrip("'")
            if word in STOPWORDS or word in NOT_A_CUSTOMER_THING:
                continue
            s = self.structure.sentence_at(m.start())
            if s is None or s.duplicate or not s.verb or self._blocked(m.start(), m.end()):
                continue
            clause = s.clause_at(m.start())
            if clause is not None and not clause.says:
                continue
            end = m.end(1)
            second = (m.group(2) or "").lower()
            if second and second not in STOPWORDS and second not in VERB_FORMS \
                    and second not in FUNCTION_WORDS and second not in _NOT_A_NOUN \
                    and not (word.endswith("s") and not word.endswith("ss")):
                end = m.end(2)
            phrases.setdefault(stem(word), self.text.quote(m.start(), end).rstrip("'"))
        long_term = self._in_sentences(LONG_TERM)
        points = (8 if len(phrases) >= 2 else 4 if phrases else 0) + (7 if long_term else 0)
        self.add(CUSTOMER, points, list(phrases.values())[:3] + [m.text for m in long_term[:1]])
        return len(phrases), bool(long_term)

    def total(self) -> int:
        return sum(c.points for c in self.criteria) + sum(p.points for p in self.penalties)


def _is_acknowledgement(text: str) -> bool:
    return _acknowledgement(text) is not None


_NAMES: dict[int, tuple[Mapping[str, str], re.Pattern[str]]] = {}


def _names_regex(names: Mapping[str, str]) -> re.Pattern[str]:
    """One pattern for all former names, longest first, so overlapping names count once."""
    hit = _NAMES.get(id(names))
    if hit is None or hit[0] is not names:
        ordered = sorted(names, key=len, reverse=True)
        pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in ordered)
                             + r")(?![\w-])", re.IGNORECASE)
        hit = (names, pattern)
        if len(_NAMES) > 64:
            _NAMES.clear()
        _NAMES[id(names)] = hit
    return hit[1]


def _looks_like_acronym(word: str) -> bool:
    """True for ALL-CAPS tokens such as 'WAF', 'EC2' or 'SCPs'; CamelCase names such as 'GuardDuty'
    or 'FinOps' are not acronyms (a scenario lists them under `jargon` when they are jargon)."""
    core = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
    return len(core) >= 2 and core.upper() == core and any(c.isalpha() for c in core)


def _initials(ws: list[str]) -> str:
    return "".join(w[0] for w in ws if w).lower()


def _spelled_out(raw: str, start: int, end: int, term: str, meaning: str) -> bool:
    """Whether the reply explains `term`: its meaning appears anywhere in the reply, or the term
    sits in brackets right after words whose initials spell it, or is followed by its expansion."""
    if meaning:
        main = re.split(r"[,(]", meaning)[0].strip()
        bare = re.sub(r"^(?:AWS|Amazon)\s+", "", main)
        if any(c and re.search(re.escape(c), raw, re.IGNORECASE) for c in (meaning, main, bare)):
            return True
    core = term[:-1] if term.endswith("s") and term[:-1].isupper() else term
    letters = core.lower()
    before = raw[:start]
    if before.rstrip().endswith("("):
        ws = re.findall(r"[A-Za-z][\w-]*", before[:before.rstrip().rfind("(")])
        for n in range(len(letters), min(len(letters) + 3, len(ws)) + 1):
            window = [w for w in ws[-n:] if w.lower() not in {"of", "and", "for", "the"}]
            if _initials(window).endswith(letters) and len(window) >= len(letters):
                return True
    after = raw[end:].lstrip()
    if after.startswith("("):
        inner = after[1:after.find(")")] if ")" in after else after[1:]
        ws = [w for w in re.findall(r"[A-Za-z][\w-]*", inner)
              if w.lower() not in {"of", "and", "for", "the"}]
        if _initials(ws).startswith(letters[:2]) and len(ws) >= 2:
            return True
    return False


_NO_NAMES: Mapping[str, str] = MappingProxyType({})


def grade(reply: str, scenario: Scenario, turn: str = "opening", customer_words: str = "",
          former_names: Mapping[str, str] = _NO_NAMES) -> Grade:
    """Grade a learner's reply to the customer's line.

    `turn` is "opening" (reply to the objection), "concern" (reply after the hidden concern was
    revealed) or "pushback". `customer_words` is everything the customer has said so far; when
    empty, the scenario's canonical lines for the turn are used. `former_names` maps outdated
    service names to current ones (built from the knowledge base's entries).
    """
    if turn not in TURNS:
        raise ValueError(f"unknown turn {turn!r} (one of: {', '.join(TURNS)})")
    words_ = customer_words.strip() or _default_customer_words(scenario, turn)
    run = _Grading(reply, scenario, turn, words_, former_names)
    # do-nots first: a word that costs points earns none
    run.false_claims()
    run.absolutes()
    run.jargon()
    run.dismissive()
    run.former()
    run.keywords()
    run.repetition()
    run.monologue()
    # the full frame: Connect, Condense, Continue, customer-centred
    acks, echoed = run.connect()
    questions = run.condense()
    missing = run.concepts()
    evidence_tip = run.evidence()
    step = run.next_step()
    your, long_term = run.customer()
    criteria = list(run.criteria)
    # a short clarifying turn later in the meeting is a good turn of the conversation
    asked = any(q.kind == "open" and q.on_topic for q in questions)
    ask_frame = (turn != "opening" and asked and run.text.words() <= ASK_TURN_WORDS)
    if ask_frame:
        run.criteria = []
        run.connect(ASK_MAXIMA)
        run.condense(ASK_MAXIMA)
        for name in (CONCEPTS, EVIDENCE, NEXT_STEP, CUSTOMER):
            run.add(name, 0, [], ASK_MAXIMA)
        if sum(c.points for c in run.criteria) <= sum(c.points for c in criteria):
            run.criteria, ask_frame = criteria, False
    from bot.roleplay.coaching import suggestions  # coaching builds on the grader's tables

    run.suggestions = suggestions(
        scenario, turn, words_, acks=acks, echoed=echoed, questions=questions, missing=missing,
        evidence_tip=evidence_tip, step=step, your=your, long_term=long_term,
        ask_frame=ask_frame, reply_stems=run.text.stems)
    run.suggestions += [a for a in run.penalty_advice if a not in run.suggestions]
    score = max(0, min(100, run.total()))
    if run.findings:
        score = min(score, FALSE_CLAIM_CAP)
    claims = tuple(FalseClaim(f.misconception.id, f.misconception.claim, f.misconception.fact,
                              f.misconception.entry, f.sentence) for f in run.findings)
    return Grade(score, band_for(score), tuple(run.criteria), tuple(run.penalties),
                 tuple(run.suggestions), claims)


def raises_frustration(grade: Grade) -> int:
    """How much this reply annoys the customer: +1 per absolute, jargon or dismissive phrase and
    per false claim quoted in the penalties, +1 for a monologue."""
    count = sum(len(p.evidence) for p in grade.penalties if p.rule in FRUSTRATING)
    return count + (1 if grade.penalty(MONOLOGUE) else 0)


_KEEP_TEXT = {
    CONNECT: "acknowledging the concern",
    CONDENSE: "asking an open question",
    CONCEPTS: "covering what matters",
    EVIDENCE: "backing it with evidence",
    NEXT_STEP: "proposing a concrete next step",
    CUSTOMER: "keeping the customer at the centre",
}


def _short(text: str, limit: int = 70) -> str:
    """`text` on one line, at most `limit` characters, cut between words (with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if not text[limit - 1].isspace() and " " in cut:
        cut = cut[:cut.rfind(" ")]
    return cut.rstrip(" ,;:-\u2014\u2013") + "\u2026"


def keep_start_stop(grade: Grade) -> list[str]:
    """At most three short feedback lines: Keep (best criterion), Start (first missing item),
    Stop (heaviest penalty - a false claim with the fact to learn; otherwise a second Start)."""
    lines: list[str] = []
    earned = [c for c in grade.criteria if c.points > 0 and c.evidence and c.max]
    if earned:
        best = max(earned, key=lambda c: (c.points / c.max, c.points))
        what = _KEEP_TEXT.get(best.name, best.name)
        if best.name == CONNECT and not _is_acknowledgement(best.evidence[0]):
            what = "using the customer's own words"
        lines.append(f'Keep: {what} - "{_short(best.evidence[0])}"')
    penalty_rules = {p.rule for p in grade.penalties}
    starts = [s for s in grade.suggestions if not _is_penalty_advice(s, penalty_rules)]
    if starts:
        lines.append("Start: " + _short(starts[0][len("Try: "):], 200))
    if grade.misconceptions:
        claim = grade.misconceptions[0]
        lines.append(f'Stop: false claim - "{_short(claim.sentence, 60)}". In fact: '
                     f"{' '.join(claim.fact.split())} (read: {claim.entry})")
    elif grade.penalties:
        worst = min(grade.penalties, key=lambda p: p.points)
        quoted = ", ".join(f'"{_short(e, 40)}"' for e in worst.evidence[:3])
        lines.append(f"Stop: {worst.rule.lower()} - {quoted}")
    elif len(starts) > 1:
        lines.append("Start: " + _short(starts[1][len("Try: "):], 200))
    return lines[:3]


_PENALTY_ADVICE_START = {
    ABSOLUTES: "Try: replace absolutes", DISMISSIVE: "Try: take the worry seriously",
    JARGON: "Try: use words the customer used", MONOLOGUE: "Try: keep a reply under",
    FORMER_NAME: "Try: use current service names", FALSE_CLAIM: "Try: correct what you said",
    KEYWORDS: "Try: say it in sentences", REPETITION: "Try: say each point once",
}


def _is_penalty_advice(suggestion: str, rules: set[str]) -> bool:
    return any(suggestion.startswith(_PENALTY_ADVICE_START[r]) for r in rules)
