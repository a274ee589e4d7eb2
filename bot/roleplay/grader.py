"""Deterministic, explainable grading of a role-play reply: Connect, Condense, Continue, do-nots."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from bot.roleplay.matching import Match, Text, regex_matches, sentences, stem, tokenize
from bot.roleplay.scenarios import Evidence, Scenario

TURNS = ("opening", "concern", "pushback")

# Criteria, in the order they are shown. Their maxima add up to 100.
CONNECT, CONDENSE = "Connect", "Condense"
CONCEPTS, EVIDENCE, NEXT_STEP = "Continue: concepts", "Continue: evidence", "Continue: next step"
CUSTOMER = "Customer-centred"
MAXIMA = {CONNECT: 20, CONDENSE: 20, CONCEPTS: 25, EVIDENCE: 10, NEXT_STEP: 10, CUSTOMER: 15}

# Penalty rules.
ABSOLUTES, JARGON, DISMISSIVE = "Absolutes", "Jargon", "Dismissive"
MONOLOGUE, FORMER_NAME = "Monologue", "Former name"
PENALTY_EACH = {ABSOLUTES: 6, JARGON: 4, DISMISSIVE: 6, FORMER_NAME: 5}
FRUSTRATING = (ABSOLUTES, JARGON, DISMISSIVE)
MONOLOGUE_WORDS = 120

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
class Grade:
    """The scorecard of one reply."""

    score: int
    band: str
    criteria: tuple[Criterion, ...]
    penalties: tuple[Penalty, ...]
    suggestions: tuple[str, ...]

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
        }


def band_for(score: int) -> str:
    return next(label for floor, label in BANDS if score >= floor)


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


# ---- Connect -----------------------------------------------------------------------------------

_ADVERB = r"(?:very |really |completely |totally |entirely |absolutely |perfectly |fully )?"
ACKNOWLEDGE = _rx(
    r"\bI " + _ADVERB + r"(?:understand|get (?:it|that|why|where)|appreciate|hear you|hear that"
    r"|hear what)\b",
    r"\bI can (?:see|understand|imagine|appreciate) (?:why|how|that|what|where)\b",
    r"\bI can see (?:your|the) (?:point|concern|worry)\b",
    r"\bI see (?:why|what you mean|your point|where you're coming from)\b",
    r"\b(?:that'?s|that is|it'?s|it is|this is|what a|such a) (?:a |an )?" + _ADVERB
    + r"(?:fair|valid|good|great|reasonable|legitimate|important|common|natural|understandable"
      r"|serious|real|honest|sensible|smart|big|huge) (?:point|concern|question|worry|challenge"
      r"|risk|one|thing to ask|constraint|standard|problem|issue)\b",
    r"\b(?:fair|valid|good|great|reasonable) (?:point|question|concern|challenge)\b",
    r"\bfair enough\b",
    r"\b(?:that|it|this) makes (?:complete |total |perfect |a lot of )?sense\b",
    r"\byou'?re (?:right|wise|smart) to\b", r"\byou are (?:right|wise) to\b",
    r"\b(?:it'?s|it is|that'?s|that is) (?:completely |totally |entirely |perfectly )?"
    r"(?:understandable|natural|reasonable|fair)\b",
    r"\bunderstandabl[ey]\b",
    r"\bthanks?(?: you)? for (?:raising|sharing|bringing|asking|the question"
    r"|being (?:so )?\w+|telling me)\b",
    r"\bI'?m glad you (?:asked|raised|mentioned|said)\b",
    r"\byou'?re not (?:alone|the only)\b",
    r"\b(?:many|most|lots of|a lot of) (?:of our )?(?:customers|leaders|CFOs|CISOs|CTOs|teams"
    r"|organi[sz]ations|people) (?:felt|feel|had|have|raise|raised|ask|asked|share)"
    r" (?:the same|that|this|similar)\b",
    r"\bI(?:'d| would) (?:feel|be) the same\b",
    r"\bI(?:'d| would) (?:be nervous|be worried|worry|be cautious|be sceptical|be skeptical"
    r"|want to know)(?: too| as well)?\b",
    r"\b(?:that'?s|that is|it'?s|it is) (?:exactly )?the right (?:question|thing to ask|concern"
    r"|standard|instinct)\b",
    r"\b(?:that|it) (?:must be|sounds) (?:stressful|frustrating|painful|hard|difficult|worrying"
    r"|a real|really)\b",
    r"\bthat'?s exactly the right\b",
)

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


@lru_cache(maxsize=4096)
def _content_stems(text: str) -> frozenset[str]:
    return frozenset(t.stem for t in tokenize(text) if t.lower not in STOPWORDS and len(t.text) > 2
            and not t.text.isdigit())


# ---- Condense ----------------------------------------------------------------------------------

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
    r"|walk|talk|help me|give me|outline|say more)",
    r"\btell me (?:more|about|what|how|why|which|where|a bit)\b",
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
                 r"^(?:so,? )?how do you feel about (?:that|this)\b")
ASK_LEAD_IN = re.compile(r"^\W*(?:so,?\s+)?(?:(?:can|could|may) I ask(?: you)?|if I may ask"
                         r"|out of interest|just so I understand|to help me understand),?\s*",
                         re.IGNORECASE)
PROPOSAL_QUESTION = _rx(
    r"^(?:so,? |and,? |then,? )?(?:could|can|shall|should) we\b",
    r"^(?:so,? |and,? )?(?:would|will|could|might) (?:it|that|this) (?:help|work|be useful|make)\b",
    r"^(?:so,? |and,? )?would (?:a|an|some) [\w\s-]{1,60}\bhelp\b",
    r"^(?:so,? |and,? )?would you (?:like|be open|be interested|want)\b",
    r"^(?:so,? |and,? )?(?:how about|what if we|why don'?t we)\b",
    r"^(?:so,? |and,? )?(?:shall|can|may|could) I (?:send|set|book|share|arrange|show|put)\b",
    r"^(?:so,? |and,? )?do you want (?:me|us) to\b",
    r"^(?:so,? |and,? )?are you (?:free|available|open)\b",
)

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

# ---- Continue: evidence and next step ----------------------------------------------------------

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
    r"|moved|migrated|handle|already|do|did|found|see|saw)\b",
    r"\bone of our (?:customers|clients)\b",
    r"\banother (?:bank|hospital|retailer|manufacturer|agency|department|broadcaster|start-?up"
    r"|customer|company|firm|business|insurer|council)\b",
    r"\b(?:many|lots of|a lot of|most|several|some|plenty of|thousands of|hundreds of)"
    r" (?:big |large |major |leading |global |small |other |well-known )?(?:banks|hospitals"
    r"|retailers|manufacturers|agencies|broadcasters|start-?ups|insurers|governments"
    r"|enterprises)\b",
    r"\bintroduce you to\b",
)
_OFFER_VERBS = (r"(?:send|share|set|book|schedule|arrange|introduce|run|prepare|put together|bring"
                r"|walk|show|organi[sz]e|follow up|connect|build|draft|estimate|model|do|help"
                r"|review|host|facilitate|invite)\b")
PROPOSAL = _rx(
    r"\b(?:could|can|shall|should) we\b", r"\blet'?s\b", r"\blet us\b",
    r"\bwould (?:it|that|this) (?:help|work|be useful)\b",
    r"\bwould (?:a|an) [\w\s-]{1,60}\bhelp\b",
    r"\bwould you (?:like|be open|be interested|want)\b", r"\bhow about\b",
    r"\bwhy don'?t we\b", r"\bwhat if we\b",
    r"\bI(?:'ll| will| can| could)(?: \w+ly| also| then| gladly)? " + _OFFER_VERBS,
    r"\b(?:happy|glad|keen|delighted|love|like) to(?: \w+ly)? " + _OFFER_VERBS,
    r"\bI(?:'d| would)? (?:suggest|propose|recommend)\b",
    r"\bnext step\b",
    r"\bwe (?:could|can) (?:start|begin|set|run|book|schedule|review|do|try|test|look|build"
    r"|plan|map|model)\b",
    r"\bhappy to (?:send|share|set|book|run|walk|show|help|arrange|build)\b",
)
ACTION = _rx(
    r"\bproof[- ]of[- ]concept\b", r"\bPOC\b", r"\bpilot\b", r"\bworkshop\b", r"\bdemo\b",
    r"\bdemonstration\b", r"\breview\b", r"\bcomparison\b", r"\bcompare\b", r"\bassessment\b",
    r"\bestimate\b", r"\bcalculator\b", r"\bsession\b", r"\bcall\b", r"\bmeeting\b", r"\bmeet\b",
    r"\btest\b", r"\btrial\b", r"\bwhiteboard", r"\bdeep[- ]dive\b", r"\bwalk through\b",
    r"\bgo through\b", r"\bsend\b", r"\bshare\b", r"\bset up\b", r"\bschedule\b", r"\bbook\b",
    r"\bintroduc", r"\bbusiness case\b", r"\bcost model\b", r"\bmap\b", r"\bmapping\b",
    r"\bplan\b", r"\brehears", r"\bgame day\b", r"\bload[- ]test", r"\bdraft\b", r"\bscope\b",
    r"\bbuild\b", r"\bmodel\b", r"\bagree\b", r"\bstart with\b", r"\bprice\b",
    r"\bcalculat", r"\bone (?:system|workload|application|service)\b", r"\breplay\b",
    r"\bvisit\b", r"\bcheck\b",
)
TIME = _rx(
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", r"\btomorrow\b",
    r"\b(?:next|this|coming) (?:week|month|quarter|fortnight)\b", r"\btoday\b",
    r"\bthis (?:afternoon|morning|evening)\b",
    r"\bin (?:a|one|two|three|four|\d+) (?:days?|weeks?)\b",
    r"\bbefore (?:the|your) (?:launch|event|peak|sale|board|final|audit|refresh)\b",
    r"\b(?:an|one|half an|two) hours?\b", r"\bhalf[- ]day\b", r"\b(?:one|two|a)[- ]day\b",
)

# ---- Customer-centred --------------------------------------------------------------------------

YOUR_PHRASE = re.compile(r"\byour(?:\s+own)?\s+([A-Za-z][\w'-]*)(?:\s+([A-Za-z][\w'-]*))?",
                         re.IGNORECASE)
NOT_A_CUSTOMER_THING = frozenset({"aws", "cloud", "own", "word", "mind", "question", "point",
                                  "concern", "worry", "own."})
LONG_TERM = _rx(
    r"\bover time\b", r"\blong[- ]term\b", r"\bin the long run\b", r"\bas (?:you|they|your \w+) "
    r"(?:grow|grows|expand|expands|scale|scales)\b", r"\bin the future\b", r"\bfuture\b",
    r"\bfor years\b", r"\byear after year\b", r"\bmonth after month\b", r"\bevery year\b",
    r"\bevery (?:season|peak|audit|review)\b",
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
)
DISMISSIVE_PATTERNS = _rx(
    r"\bdon'?t (?:you )?worry\b", r"\bdo not worry\b", r"\bno need to worry\b",
    r"\bnothing to worry about\b", r"\bnot to worry\b",
    r"\bjust (?:use|move|put|turn on|switch|enable|spin up|add|migrate|lift|click|trust)\b",
    r"\bsimply\b", r"\b(?:everyone|everybody)(?:'s| is| does| uses| saves| knows| agrees| moves"
    r"| else| has moved| is moving| is doing| does it)\b", r"\blike (?:everyone|everybody)\b",
    r"\bno problem\b", r"\bobviously\b",
    r"\bof course\b", r"\bit'?s (?:really |very )?(?:easy|simple|trivial)\b", r"\btrivial\b",
    r"\bcalm down\b", r"\brelax\b", r"\bthat'?s a myth\b", r"\bthat'?s not true\b",
    r"\byou'?re wrong\b", r"\bnot an issue\b", r"\bnon-?issue\b", r"\bno big deal\b",
    r"\boutdated (?:thinking|view|idea)\b", r"\bparanoid\b", r"\boverthinking\b",
    r"\bnot a (?:problem|concern)\b", r"\bnothing to fear\b",
    # over-promising that hides the customer's share of the work (shared responsibility)
    r"\b(?:handles|takes care of|does|covers) (?:absolutely )?everything\b",
    r"\b(?:it'?s|it is) all (?:handled|taken care of|done) for you\b",
    r"\byou (?:don'?t|do not|won'?t|will not) (?:have|need) to (?:do|worry about) "
    r"(?:anything|a thing)\b", r"\bnothing for you to do\b",
)
ACRONYM_RE = re.compile(r"\b[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*\b")
COMMON_ACRONYMS = frozenset("""
AWS I OK US USA UK EU UN IT CEO CFO CTO CIO CISO COO CMO VP HR PR AI ML API APIs PDF FAQ ASAP
TV PM AM GDPR ID IDs GB TB PB MB KB GE QA IoT DR CRM ERP SaaS B2B B2C ROI KPI KPIs BBC NHS
""".split())


def _salient_words(text: str, scenario: Scenario) -> list[str]:
    """The customer's words most worth echoing: topic words first, then the longest."""
    topic = {stem(w) for w in TOPIC_WORDS.get(scenario.topic, "").split()}
    words: dict[str, str] = {}
    for token in tokenize(text):
        if token.lower not in STOPWORDS and len(token.text) > 3:
            words.setdefault(token.stem, token.text)
    ranked = sorted(words.items(), key=lambda kv: (kv[0] not in topic, -len(kv[1])))
    return [w for _, w in ranked]


def _all_aliases(scenario: Scenario) -> Iterable[str]:
    for concept in scenario.concepts:
        yield from concept.aliases
    for item in scenario.evidence:
        yield from item.aliases


# ---- the grader --------------------------------------------------------------------------------


def _default_customer_words(scenario: Scenario, turn: str) -> str:
    if turn == "concern":
        return f"{scenario.opening_line} {scenario.hidden_concern.reveal}"
    return scenario.opening_line


def _quote_sentence(text: Text, span: tuple[int, int]) -> str:
    return text.raw[span[0]:span[1]]


@dataclass(frozen=True)
class _Question:
    text: str
    kind: str  # "open", "closed", "proposal" or "rhetorical"
    on_topic: bool


def _questions(reply: Text, scenario: Scenario, customer_words: str) -> list[_Question]:
    topic_stems = ({stem(w) for words in TOPIC_WORDS.values() for w in words.split()}
                   | {stem(w) for w in CONCERN_WORDS.split()}
                   | _content_stems(customer_words)
                   | _content_stems(" ".join(scenario.hidden_concern.keywords))
                   | _content_stems(" ".join(_all_aliases(scenario))))
    found: list[_Question] = []
    for span in sentences(reply.clean):
        sentence = reply.clean[span[0]:span[1]]
        words = [t.lower for t in tokenize(sentence)]
        if not words:
            continue
        is_question = sentence.rstrip("\"')] ").endswith("?")
        is_request = any(p.search(sentence) for p in OPEN_REQUEST)
        if not is_question and not is_request:
            continue
        # Classify by the first clause ("What worries you most: access, location or audits?");
        # a lead-in without a question word ("You mentioned trust - what ...?") falls through to
        # the search for a question word anywhere in the sentence.
        head = ASK_LEAD_IN.sub("", sentence)
        clause = re.split(r"[;:\u2014\u2013]|\s-\s|,\s(?=(?:what|how|which|where|why|when|who)\b)",
                          head, flags=re.IGNORECASE)
        head_clause = next((c for c in clause if re.search(r"[A-Za-z]", c)), head)
        start = [t.lower for t in tokenize(head_clause)]
        while start and start[0] in FILLERS:
            start = start[1:]
        first = start[0] if start else ""
        stripped = " ".join(start)
        if is_question and any(p.search(sentence) for p in RHETORICAL):
            kind = "rhetorical"
        elif is_question and any(p.search(stripped) for p in CHECK_BACK):
            kind = "closed"
        elif is_request:
            kind = "open"
        elif is_question and any(p.search(stripped) for p in PROPOSAL_QUESTION):
            kind = "proposal"
        elif first in WH_WORDS:
            kind = "open"
        elif first in AUX_WORDS:
            kind = "closed"
        elif any(w in WH_WORDS for w in words):
            kind = "open"
        else:
            kind = "closed"
        on_topic = bool({t.stem for t in tokenize(sentence)} & topic_stems)
        found.append(_Question(reply.raw[span[0]:span[1]], kind, on_topic))
    return found


def is_good_clarifying_question(reply: str, scenario: Scenario, customer_words: str = "") -> bool:
    """Whether the reply asks an open, on-topic question (what/how/which/tell me ...) that would
    lead the customer to reveal the hidden concern. Proposals, rhetorical and yes/no questions do
    not count. `customer_words` defaults to the scenario's opening objection."""
    text = Text(reply)
    words = customer_words.strip() or scenario.opening_line
    return any(q.kind == "open" and q.on_topic for q in _questions(text, scenario, words))


class _Grading:
    """One grading run: the reply, the scenario, and the criteria and penalties found so far."""

    def __init__(self, reply: str, scenario: Scenario, customer_words: str,
                 former_names: Mapping[str, str]) -> None:
        self.text = Text(reply)
        self.scenario = scenario
        self.customer_words = customer_words
        self.former_names = former_names
        self.criteria: list[Criterion] = []
        self.penalties: list[Penalty] = []
        self.suggestions: list[str] = []

    def add(self, name: str, points: int, evidence: Iterable[str]) -> None:
        maximum = MAXIMA[name]
        self.criteria.append(Criterion(name, max(0, min(points, maximum)), maximum,
                                       tuple(dict.fromkeys(evidence))))

    def suggest(self, text: str) -> None:
        line = text if text.lower().startswith("try:") else f"Try: {text}"
        if line not in self.suggestions:
            self.suggestions.append(line)

    # Connect: acknowledge the concern and reflect the customer's own words.
    def connect(self) -> None:
        acks = regex_matches(ACKNOWLEDGE, self.text)
        points = 12 if acks else 0
        evidence = [m.text for m in acks[:2]]
        customer = _content_stems(self.customer_words)
        echoed: dict[str, str] = {}
        for token in self.text.tokens:
            if token.lower in STOPWORDS or len(token.text) <= 2:
                continue
            if token.stem in customer and token.stem not in echoed:
                echoed[token.stem] = token.text
        if len(echoed) >= 2:
            points += 8
        elif echoed:
            points += 4
        evidence += list(echoed.values())[:4]
        self.add(CONNECT, points, evidence)
        if not acks:
            self.suggest('acknowledge the worry before answering, e.g. "I can see why that '
                         'matters to you" or "That\'s a fair point".')
        if len(echoed) < 2:
            key_words = _salient_words(self.customer_words, self.scenario)[:3]
            example = ", ".join(f'"{w}"' for w in key_words)
            self.suggest("reflect the customer's own words back"
                         + (f" (they said {example})" if example else "")
                         + " to show you listened.")

    # Condense: an open clarifying question on the topic.
    def condense(self) -> None:
        questions = _questions(self.text, self.scenario, self.customer_words)
        open_on = [q for q in questions if q.kind == "open" and q.on_topic]
        open_off = [q for q in questions if q.kind == "open" and not q.on_topic]
        closed = [q for q in questions if q.kind == "closed"]
        example = self._example_question()
        if open_on:
            self.add(CONDENSE, 20, [open_on[0].text])
            return
        if open_off:
            self.add(CONDENSE, 12, [open_off[0].text])
            self.suggest("keep your question on the customer's concern, e.g. "
                         f'"{example}"')
            return
        if closed:
            self.add(CONDENSE, 8, [closed[0].text])
            self.suggest("turn the yes/no question into an open one that starts with what, how "
                         f'or which, e.g. "{example}"')
            return
        self.add(CONDENSE, 0, [])
        self.suggest("ask one open question to find out what is really behind the objection, "
                     f'e.g. "{example}"')

    def _example_question(self) -> str:
        model = Text(self.scenario.model_answers.opening)
        for q in _questions(model, self.scenario, self.scenario.opening_line):
            if q.kind == "open":
                return q.text
        return "What worries you most about it?"

    # Continue: the scenario's concepts, weighted, not negated.
    def concepts(self) -> None:
        covered = 0
        evidence: list[str] = []
        missing = []
        for concept in self.scenario.concepts:
            match = self.text.find_first_positive(concept.aliases)
            if match is not None:
                covered += concept.weight
                evidence.append(match.text)
            else:
                missing.append(concept)
        target = self.scenario.coverage_target
        points = round(MAXIMA[CONCEPTS] * min(1.0, covered / target)) if target else 0
        self.add(CONCEPTS, points, evidence)
        if covered < target:
            missing.sort(key=lambda c: -c.weight)
            for concept in missing[:2]:
                self.suggest(concept.try_text)

    # Continue: proof points - course evidence, figures, reference customers.
    def evidence(self) -> None:
        found: list[Match] = []
        first_missing: Evidence | None = None
        for item in self.scenario.evidence:
            match = self.text.find_first_positive(item.aliases)
            if match is not None:
                found.append(match)
            elif first_missing is None:
                first_missing = item
        found += regex_matches(FIGURES, self.text)
        found += regex_matches(CASE_STUDY, self.text)
        distinct: list[Match] = []
        for match in sorted(found, key=lambda m: (m.start, -m.end)):
            if all(match.end <= d.start or match.start >= d.end for d in distinct):
                distinct.append(match)
        points = 10 if len(distinct) >= 2 else 7 if distinct else 0
        self.add(EVIDENCE, points, [m.text for m in distinct])
        if len(distinct) < 2:
            tip = first_missing or (self.scenario.evidence[0] if self.scenario.evidence else None)
            self.suggest(tip.try_text if tip else
                         "back your answer with evidence: a figure, a case study or a reference "
                         "customer.")

    # Continue: a concrete next step.
    def next_step(self) -> None:
        best = 0
        quote = ""
        for span in sentences(self.text.clean):
            sentence = self.text.clean[span[0]:span[1]]
            proposal = any(p.search(sentence) for p in PROPOSAL)
            concrete = any(p.search(sentence) for p in ACTION + TIME)
            points = 10 if proposal and concrete else 5 if proposal else 0
            if points and points >= best:  # the last proposal wins a tie: next steps come last
                best, quote = points, _quote_sentence(self.text, span)
        if not best:
            for span in sentences(self.text.clean):
                sentence = self.text.clean[span[0]:span[1]]
                if any(p.search(sentence) for p in ACTION[:5]):
                    best, quote = 4, _quote_sentence(self.text, span)
                    break
        self.add(NEXT_STEP, best, [quote] if quote else [])
        if best < 10:
            example = self.scenario.next_steps[0] if self.scenario.next_steps else (
                "Could we look at this together next week?")
            self.suggest(f'close with a concrete next step with an action and a time, e.g. '
                         f'"{example}"')

    # Customer-centred and long-term.
    def customer(self) -> None:
        phrases: dict[str, str] = {}
        for m in YOUR_PHRASE.finditer(self.text.clean):
            word = m.group(1).lower().rstrip("'")
            if word in STOPWORDS or word in NOT_A_CUSTOMER_THING:
                continue
            end = m.end(1)
            second = (m.group(2) or "").lower()
            if second and second not in STOPWORDS:
                end = m.end(2)
            phrases.setdefault(stem(word), self.text.quote(m.start(), end).rstrip("'"))
        long_term = regex_matches(LONG_TERM, self.text)
        points = (8 if len(phrases) >= 2 else 4 if phrases else 0) + (7 if long_term else 0)
        self.add(CUSTOMER, points, list(phrases.values())[:3] + [m.text for m in long_term[:1]])
        if len(phrases) < 2:
            self.suggest('frame it around the customer and their business: "your customers", '
                         '"your team", "your board".')
        if not long_term:
            self.suggest("add the long-term view: what this means over time and as the "
                         "business grows, not just for the next project.")

    # ---- penalties ----
    def penalise(self, rule: str, points: int, evidence: list[str], advice: str) -> None:
        if points:
            self.penalties.append(Penalty(rule, -points, tuple(evidence)))
            self.suggest(advice)

    def absolutes(self) -> None:
        found = [m.text for m in regex_matches(ABSOLUTE_PATTERNS, self.text)]
        quoted = ", ".join(f'"{w}"' for w in dict.fromkeys(found))
        self.penalise(ABSOLUTES, PENALTY_EACH[ABSOLUTES] * len(found), found,
                      f"replace absolutes ({quoted}) with measured language such as \"designed "
                      "to\", \"customers typically see\" or \"we can test it together\".")

    def dismissive(self) -> None:
        found = [m.text for m in regex_matches(DISMISSIVE_PATTERNS, self.text)]
        quoted = ", ".join(f'"{w}"' for w in dict.fromkeys(found))
        self.penalise(DISMISSIVE, PENALTY_EACH[DISMISSIVE] * len(found), found,
                      f"take the worry seriously instead of brushing it off ({quoted}); ask what "
                      "is behind it.")

    def jargon(self) -> None:
        customer = self.customer_words
        raw = self.text.clean
        hits: dict[str, str] = {}  # term -> plain meaning
        for item in self.scenario.jargon:
            term = item.term
            if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", customer, re.IGNORECASE):
                continue
            flags = 0 if term.isupper() or any(c.isupper() for c in term[1:]) else re.IGNORECASE
            for m in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", raw, flags):
                if not _spelled_out(raw, m.start(), m.end(), term, item.meaning):
                    hits.setdefault(m.group(0), item.meaning)
                    break
        listed = {j.term.lower() for j in self.scenario.jargon}
        exempt = {w for alias in _all_aliases(self.scenario) for w in alias.split()}
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
        found = list(hits)
        if found:
            plain = [f'"{meaning}" rather than "{term}"' for term, meaning in hits.items()
                     if meaning][:2]
            advice = ("use words the customer used: "
                      + ("say " + " and ".join(plain) + ", or " if plain else "")
                      + "spell a term out the first time, e.g. \"AWS Key Management Service "
                        "(KMS)\".")
            self.penalise(JARGON, PENALTY_EACH[JARGON] * len(found), found, advice)

    def monologue(self) -> None:
        words = self.text.words()
        if words <= MONOLOGUE_WORDS:
            return
        points = 5 if words <= 160 else 10 if words <= 200 else 15
        self.penalise(MONOLOGUE, points, [f"{words} words"],
                      f"keep a reply under about {MONOLOGUE_WORDS} words (this one has {words}) "
                      "and let the customer talk.")

    def former(self) -> None:
        if not self.former_names:
            return
        found: list[Match] = []
        for old in sorted(self.former_names, key=len, reverse=True):
            for m in re.finditer(rf"(?<![\w-]){re.escape(old)}(?![\w-])", self.text.clean,
                                 re.IGNORECASE):
                if all(m.end() <= f.start or m.start() >= f.end for f in found):
                    found.append(Match(m.start(), m.end(), self.text.quote(m.start(), m.end()),
                                       False))
        if not found:
            return
        found.sort(key=lambda f: f.start)
        lower = {k.lower(): v for k, v in self.former_names.items()}
        renames = [f'"{lower[f.text.lower()]}" (not "{f.text}")' for f in found
                   if f.text.lower() in lower]
        self.penalise(FORMER_NAME, PENALTY_EACH[FORMER_NAME] * len(found),
                      [f.text for f in found],
                      "use current service names: " + ", ".join(dict.fromkeys(renames)) + ".")


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w).lower()


def _looks_like_acronym(word: str) -> bool:
    """True for ALL-CAPS tokens such as 'WAF', 'EC2' or 'SCPs'; CamelCase names such as 'GuardDuty'
    or 'FinOps' are not acronyms (a scenario lists them under `jargon` when they are jargon)."""
    core = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
    return len(core) >= 2 and core.upper() == core and any(c.isalpha() for c in core)


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
        words = re.findall(r"[A-Za-z][\w-]*", before[:before.rstrip().rfind("(")])
        for n in range(len(letters), min(len(letters) + 3, len(words)) + 1):
            window = [w for w in words[-n:] if w.lower() not in {"of", "and", "for", "the"}]
            if _initials(window).endswith(letters) and len(window) >= len(letters):
                return True
    after = raw[end:].lstrip()
    if after.startswith("("):
        inner = after[1:after.find(")")] if ")" in after else after[1:]
        words = [w for w in re.findall(r"[A-Za-z][\w-]*", inner)
                 if w.lower() not in {"of", "and", "for", "the"}]
        if _initials(words).startswith(letters[:2]) and len(words) >= 2:
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
    words = customer_words.strip() or _default_customer_words(scenario, turn)
    run = _Grading(reply, scenario, words, former_names)
    run.connect()
    run.condense()
    run.concepts()
    run.evidence()
    run.next_step()
    run.customer()
    run.absolutes()
    run.jargon()
    run.dismissive()
    run.monologue()
    run.former()
    total = sum(c.points for c in run.criteria) + sum(p.points for p in run.penalties)
    score = max(0, min(100, total))
    return Grade(score, band_for(score), tuple(run.criteria), tuple(run.penalties),
                 tuple(run.suggestions))


def raises_frustration(grade: Grade) -> int:
    """How much this reply annoys the customer: +1 per absolute, jargon or dismissive phrase
    quoted in the penalties, +1 for a monologue."""
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
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def keep_start_stop(grade: Grade) -> list[str]:
    """At most three short feedback lines: Keep (best criterion), Start (first missing item),
    Stop (heaviest penalty; otherwise a second Start)."""
    lines: list[str] = []
    earned = [c for c in grade.criteria if c.points > 0 and c.evidence]
    if earned:
        best = max(earned, key=lambda c: (c.points / c.max, c.points))
        what = _KEEP_TEXT.get(best.name, best.name)
        if best.name == CONNECT and not any(p.search(best.evidence[0]) for p in ACKNOWLEDGE):
            what = "using the customer's own words"
        lines.append(f'Keep: {what} - "{_short(best.evidence[0])}"')
    penalty_rules = {p.rule for p in grade.penalties}
    starts = [s for s in grade.suggestions if not _is_penalty_advice(s, penalty_rules)]
    if starts:
        lines.append("Start: " + _short(starts[0][len("Try: "):], 110))
    if grade.penalties:
        worst = min(grade.penalties, key=lambda p: p.points)
        quoted = ", ".join(f'"{_short(e, 30)}"' for e in worst.evidence[:3])
        lines.append(f"Stop: {worst.rule.lower()} - {quoted}")
    elif len(starts) > 1:
        lines.append("Start: " + _short(starts[1][len("Try: "):], 110))
    return lines[:3]


_PENALTY_ADVICE_START = {
    ABSOLUTES: "Try: replace absolutes", DISMISSIVE: "Try: take the worry seriously",
    JARGON: "Try: use words the customer used", MONOLOGUE: "Try: keep a reply under",
    FORMER_NAME: "Try: use current service names",
}


def _is_penalty_advice(suggestion: str, rules: set[str]) -> bool:
    return any(suggestion.startswith(_PENALTY_ADVICE_START[r]) for r in rules)
