"""Sentence structure of a reply: sentences, clauses, verbs, keyword lists, repetition.

The grader gives credit to sentences that *do* something, so it first needs to know what the
reply's sentences are. This module reads the structure only - no vocabulary of the scenarios:

- **sentences** split after . ! ? (not after "e.g."), at line breaks, arrows ("->") and bars;
  **clauses** split inside a sentence at ; : and dashes;
- whether a clause **has a finite verb** - an auxiliary or modal ("is", "can", "we'll"), a subject
  pronoun followed by a word ("you pick"), a known verb after its subject ("AWS secures",
  "other banks already work"), or an imperative ("Take your last audit");
- **keyword lists**: a run of four or more short verbless items ("encryption / Artifact / SOC 2 /
  other banks", "#AutoScaling #MultiAZ") and verbless fragments ("Shared responsibility.");
  a list that elaborates a clause with a verb ("...the whole cost: power, space and staff") is an
  **enumeration** instead;
- **repetition**: sentences that repeat an earlier one (the same content words) and phrases that
  recur as padding ("at the end of the day" eight times).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from bot.roleplay.matching import normalise_quotes, stem

# ---- words -------------------------------------------------------------------------------------

_WORD_RE = re.compile(r"#?[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")

AUXILIARIES = frozenset("""
is are was were am be been being do does did have has had can could will would shall should may
might must cannot isn't aren't wasn't weren't don't doesn't didn't haven't hasn't hadn't can't
couldn't won't wouldn't shouldn't mustn't let's ain't needn't
""".split())
# contractions that carry a verb: it's, we'll, you'd, I'm, they've ...
_CONTRACTED_VERB = re.compile(r"^[a-z]+'(?:s|re|ve|ll|d|m)$")
_POSSESSIVE_HOSTS = frozenset({"it", "that", "there", "here", "what", "who", "how", "where", "he",
                               "she", "this", "everything", "nothing", "something", "one", "let",
                               "which", "when", "why", "everyone", "nobody"})
SUBJECTS = frozenset({"i", "we", "you", "they", "he", "she", "it", "who", "which", "that",
                      "nobody", "everyone", "everybody", "someone", "each", "both"})
# words that cannot be the verb right after a subject pronoun ("you and your team", "for you.")
FUNCTION_WORDS = frozenset("""
a an the and or but nor so yet for of to in on at by with from into onto about as than then there
here this that these those your my our their his her its them us me him you we they i it all any
each every some no not also only just even still already often usually typically really very too
more most less much many both either neither if when while because since though although whereas
until unless whether where why how what which who whom whose per vs via like
""".split())
PARTICLES = frozenset({"down", "up", "out", "off", "away", "back", "over", "through", "on"})
WH_SUBJECTS = frozenset({"what", "which", "who", "whose"})
ADVERBS = frozenset("""
also already often usually typically generally normally really actually simply just only still
then now all both even never always sometimes not no longer ever hardly most rarely mostly mainly
largely quickly easily finally first later soon automatically already instead probably certainly
gradually immediately directly
""".split())
DETERMINERS = frozenset("""
a an the your my our their his her its this that these those each every some any no another
""".split())
PREPOSITIONS = frozenset("""
of to in on at by with from into onto about as for over under between through across after before
during per via without within against among around behind beyond like than vs versus
""".split())

# Common verbs (base forms). Inflections are derived below; irregular pasts are listed.
_VERB_BASES = """
accept access achieve act add adjust agree aim allow analyse analyze answer apply approve archive
arrange ask assess assign assume audit automate avoid back balance become begin believe bill block
book bring build buy calculate call care carry catch cause change charge check choose claim climb
close collect come commit compare complete comply configure confirm connect consider contain
continue control convince cost count cover crash create cut deal decide decouple define deliver
demonstrate deploy depend describe design detect determine develop do double download drive drop
earn enable encrypt end ensure estimate evaluate expand expect explain export fail fall feel find
finish fit fix flag focus follow forecast free gain get give go grant grow guide halve handle hurt
happen help hold host identify implement import improve include increase inherit introduce invest
involve isolate keep know launch lead learn leave let lift limit list live load lock log look lose
lower maintain make manage map match matter mean measure meet migrate mirror model monitor move
need notice observe offer open operate optimise optimize organise organize own pass pay pick place
plan point prefer prepare present prevent price process protect prove provide publish pull
purchase push put queue raise reach read receive recommend record reduce refresh regain release
rely remain remove renew replace replicate report request require reserve resize respond rest
restore retain return review rise run save say scale schedule scope secure see sell send serve set
share shift show shrink sign simulate sit size slow solve speak spend split spread stand start
stay stop store suggest support switch take talk teach tell test think throttle time track trade
train transfer treat trust try turn understand update upgrade use validate verify walk want watch
work worry write
""".split()
_IRREGULAR = """
began begun bought brought built came caught chose chosen cut dealt did done drew hurt went gone
driven drove fell felt found gave given got gotten grew grown had held kept knew known laid led
left lent let lost made meant met paid put ran read said sat saw seen sent set shown shrank spent
split spread stood stuck taken taught thought told took understood went won wrote written broke
broken froze rose sold spoke threw wore
""".split()
# Base forms that are more often nouns in a keyword list ("load test", "cost controls"): they count
# as a verb only right after a subject pronoun, a plural or an adverb.
_NOUNY = frozenset("""
access audit back balance bill block book call care change charge check close cost count cover
crash drop end fall fit flag focus forecast free help hold limit list load lock log look match
model need offer open order pass place plan point price process queue record release report
request rest return review rise run scale schedule scope set share shift show sign size split
spread stand start stay stop store support switch test time track trade train transfer trust turn
update use walk watch work
""".split())


def _inflections(base: str) -> set[str]:
    forms = {base}
    if base.endswith("e"):
        forms |= {base + "s", base + "d", base[:-1] + "ing"}
    elif base.endswith("y") and base[-2:-1] not in "aeiou":
        forms |= {base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    elif base.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms |= {base + "es", base + "ed", base + "ing"}
    else:
        forms |= {base + "s", base + "ed", base + "ing"}
        if re.search(r"[^aeiou][aeiou][bdgmnprt]$", base) and len(base) <= 4:
            forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    return forms


VERB_FORMS: frozenset[str] = frozenset(
    {f for b in _VERB_BASES for f in _inflections(b)} | set(_IRREGULAR))
_VERB_BASE_SET = frozenset(_VERB_BASES)


@dataclass(frozen=True)
class Word:
    text: str
    lower: str
    start: int
    end: int

    @property
    def capital(self) -> bool:
        return self.text[:1].isupper()

    @property
    def hashtag(self) -> bool:
        return self.text.startswith("#")


def words(text: str, offset: int = 0) -> list[Word]:
    """Words of `text` with hyphenated compounds kept whole ("pay-as-you-go", "always-on")."""
    return list(_words(text, offset))


@lru_cache(maxsize=16384)
def _words(text: str, offset: int) -> tuple[Word, ...]:
    return tuple(Word(m.group(0), m.group(0).lower(), m.start() + offset, m.end() + offset)
                 for m in _WORD_RE.finditer(text))


def _is_verb_form(w: Word) -> bool:
    return w.lower in VERB_FORMS and not w.capital and "-" not in w.lower


def has_verb(ws: list[Word] | tuple[Word, ...]) -> bool:
    """Whether a clause has a finite verb (see the module's docstring)."""
    lows = [w.lower for w in ws]
    n = len(lows)
    for i, low in enumerate(lows):
        if low in AUXILIARIES:
            return True
        if _CONTRACTED_VERB.match(low):
            host, _, suffix = low.partition("'")
            if suffix != "s" or host in _POSSESSIVE_HOSTS:
                return True
        if low in SUBJECTS and i + 1 < n:
            j = i + 1
            while j < n and lows[j] in ADVERBS:
                j += 1
            if j < n and lows[j] not in FUNCTION_WORDS and not ws[j].hashtag and (
                    low not in {"that", "which", "who", "it", "each", "both"}
                    or _is_verb_form(ws[j])):
                return True
    # a known verb after something that can be its subject
    for i in range(1, n):
        w = ws[i]
        if not _is_verb_form(w):
            continue
        prev = lows[i - 1]
        if prev in DETERMINERS or prev in PREPOSITIONS or prev in {"and", "or", "&", "vs"}:
            continue
        ending_s = w.lower.endswith("s") and w.lower not in _VERB_BASE_SET
        ending_ed = w.lower.endswith("ed") or w.lower in _IRREGULAR
        subject_like = (prev in ADVERBS or (prev.endswith("s") and not prev.endswith("ss"))
                        or ws[i - 1].capital or prev in SUBJECTS or prev in WH_SUBJECTS)
        if w.lower in _NOUNY and not subject_like:
            continue
        if ending_s or ending_ed:
            # "AWS secures", "the bill follows", "GE Oil & Gas cut": a subject then its verb,
            # followed by more words (a clause-final "audit reports" is a noun phrase)
            final = i + 1 >= n
            if not final and (subject_like or _det_before(lows, i - 1)):
                return True
            if final and _wh_before(lows, i - 1):
                return True  # "which part failed?"
            if ending_s and not final and lows[i + 1] not in PREPOSITIONS \
                    and lows[i + 1] not in {"and", "or", "nor"} and not ws[i + 1].capital:
                return True  # "capacity follows demand"
        elif subject_like and i + 1 < n:
            return True  # "other banks already work this way"
    # an unknown word in -s/-ed between a subject and its object: "the board remembers the bad
    # day", "your team still prefers it"
    for i in range(1, n):
        low = lows[i]
        if ws[i].capital or "-" in low or low in FUNCTION_WORDS or len(low) < 4:
            continue
        if not (low.endswith("s") and not low.endswith("ss") or low.endswith("ed")):
            continue
        if i + 1 >= n and not _wh_before(lows, i - 1):
            continue
        nxt = lows[i + 1] if i + 1 < n else ""
        if lows[i - 1] in ADVERBS and lows[i - 1] not in {"all", "both"}:
            return True
        if lows[i - 1] in WH_SUBJECTS or _wh_before(lows, i - 1):
            return True  # "what frustrates the board", "what part of the site struggled"
        if _det_before(lows, i - 1) and (nxt in DETERMINERS or nxt in PREPOSITIONS
                                          or nxt in ADVERBS or nxt in PARTICLES
                                          or nxt in {"it", "them", "us", "me"}):
            return True
    # an infinitive with its verb: "happy to bring the reports", "a session to go through it"
    for i in range(n - 1):
        if lows[i] == "to" and lows[i + 1] in _VERB_BASE_SET and (
                lows[i + 1] not in _NOUNY or (i + 2 < n and (
                    lows[i + 2] in DETERMINERS or lows[i + 2] in {"it", "them", "us", "me"}))):
            return True
    # an imperative: "Take your last audit", "Look at one month together"
    if n >= 3 and lows[0] in _VERB_BASE_SET and not ws[0].hashtag and (
            lows[1] in DETERMINERS or lows[1] in PREPOSITIONS or lows[1] in SUBJECTS
            or lows[1] in {"me", "us", "them", "it"}):
        return True
    return False


def _wh_before(lows: list[str], i: int) -> bool:
    """A question word introduces the noun phrase ending at i ("which part of the site")."""
    for j in range(i, max(-1, i - 6), -1):
        if lows[j] in WH_SUBJECTS:
            return True
        if lows[j] in VERB_FORMS or lows[j] in AUXILIARIES:
            return False
    return False


def _det_before(lows: list[str], i: int) -> bool:
    """A noun at i that a determiner introduces within four words ("the bill", "each new server",
    "your total cost of ownership")."""
    for j in range(i - 1, max(-1, i - 5), -1):
        if lows[j] in DETERMINERS or lows[j] in WH_SUBJECTS:
            return True
        if lows[j] in VERB_FORMS or lows[j] in AUXILIARIES or lows[j] in {",", "and", "or"}:
            return False
    return False


# ---- sentences and clauses ---------------------------------------------------------------------

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "approx.", "incl.", "Mr.", "Ms.", "Dr.", "St.")
# bullets, check marks, arrows and other symbols used to string items together
_SYMBOLS = ("\u2022\u2023\u2043\u2219\u2190-\u21ff\u25a0-\u25ff\u2600-\u27bf\u2b00-\u2bff"
            "\U0001f300-\U0001faff")
_BREAK_RE = re.compile(r"[.!?]+[\"')\]]*(?=\s|$)|\n+|\s*(?:->|=>|>>)\s*|\s\|\s"
                       r"|\s*[" + _SYMBOLS + r"]+\s*")
_CLAUSE_RE = re.compile(r"[;:]|\s[-\u2013\u2014]\s|\u2014|\u2013")
_ITEM_RE = re.compile(r"\s*(?:[,/+]|\band\b|\bor\b|\bvs\.?|\bversus\b|(?=#))\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    text: str
    verb: bool
    items: int  # list items when the clause is a list, else 0
    keyword_list: bool  # verbless list or hashtags, not introduced by a clause with a verb
    enumeration: bool  # a list that elaborates a clause with a verb
    after_verb: bool = False  # an earlier clause of the sentence has a verb

    @property
    def says(self) -> bool:
        """Whether the clause says something: it has a verb, or it elaborates an earlier clause
        that has one ("...the whole cost: power, space and staff")."""
        return not self.keyword_list and (self.verb or self.enumeration or self.after_verb)


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    question: bool
    clauses: tuple[Clause, ...]
    verb: bool
    content: frozenset[str]  # content stems, for repetition
    duplicate_of: int  # index of the earlier sentence it repeats, or -1

    @property
    def duplicate(self) -> bool:
        return self.duplicate_of >= 0

    def clause_at(self, pos: int) -> Clause | None:
        return next((c for c in self.clauses if c.start <= pos < c.end), None)


_STOP = frozenset("""
a about all also am an and any are as at be been but by can could did do does for from had has
have how i if in into is it its just me my no not of on or our so some than that the their them
then there these they this those to too us very was we were what when where which who will with
would you your i'm you're we're it's that's don't can't won't really
""".split())


def content_stems(text: str) -> frozenset[str]:
    return frozenset(stem(w.lower) for w in words(text)
                     if w.lower not in _STOP and len(w.lower) > 2 and not w.lower.isdigit())


def _split_sentences(clean: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BREAK_RE.finditer(clean):
        if m.group(0).startswith(".") and any(
                clean[:m.end()].rstrip().endswith(a) for a in _ABBREVIATIONS):
            continue
        end = m.end() if m.group(0).strip()[:1] in ".!?" else m.start()
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(clean)))
    out = []
    for a, b in spans:
        piece = clean[a:b]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if piece and re.search(r"[A-Za-z0-9]", piece):
            out.append((a + lead, a + lead + len(piece)))
    return out


def _clause(clean: str, a: int, b: int, verb_before: bool) -> Clause:
    text = clean[a:b]
    ws = words(text, a)
    verb = has_verb(ws)
    hashtags = sum(1 for w in ws if w.hashtag)
    pieces = [p for p in _ITEM_RE.split(text.strip(" .!?")) if p and re.search(r"\w", p)]
    items = 0
    if hashtags >= 2:
        items = max(hashtags, len(pieces))
    elif len(pieces) >= 4:
        item_words = [words(p) for p in pieces]
        verbless = sum(1 for iw in item_words if not has_verb(iw))
        short = sum(len(iw) for iw in item_words) / len(item_words) <= 4
        if verbless >= len(pieces) - 1 and short:
            items = len(pieces)
    if items:
        enumeration = verb_before or any(has_verb(words(p)) for p in pieces)
        return Clause(a, b, text, verb and not items, items, not enumeration, enumeration,
                      verb_before)
    return Clause(a, b, text, verb, 0, False, False, verb_before)


@dataclass(frozen=True)
class Structure:
    """The reply's sentences, with the fragments, lists and repetition found in them."""

    clean: str
    sentences: tuple[Sentence, ...]
    words: int

    def sentence_at(self, pos: int) -> Sentence | None:
        return next((s for s in self.sentences if s.start <= pos < s.end), None)

    def fragments(self) -> list[Clause]:
        """Verbless clauses outside any sentence with a verb: keyword lists and fragments."""
        out = []
        for s in self.sentences:
            for c in s.clauses:
                if c.keyword_list or (not s.verb and not c.verb and not c.enumeration):
                    out.append(c)
        return out


@lru_cache(maxsize=1024)
def analyse(raw: str) -> Structure:
    clean = normalise_quotes(raw)
    sentences: list[Sentence] = []
    for a, b in _split_sentences(clean):
        text = clean[a:b]
        cuts = [a] + [a + m.start() for m in _CLAUSE_RE.finditer(text) if m.start() > 0] + [b]
        clauses: list[Clause] = []
        verb_before = False
        for x, y in zip(cuts, cuts[1:], strict=False):
            seg = clean[x:y]
            lead = len(seg) - len(seg.lstrip(" ;:-\u2013\u2014"))
            x2 = x + lead
            if y > x2 and re.search(r"[A-Za-z0-9]", clean[x2:y]):
                clause = _clause(clean, x2, y, verb_before)
                clauses.append(clause)
                verb_before = verb_before or clause.verb
        question = text.rstrip("\"')] ").endswith("?")
        content = content_stems(text)
        duplicate_of = -1
        for k, earlier in enumerate(sentences):
            if earlier.duplicate:
                continue
            if _same(content, earlier.content, text, earlier.text):
                duplicate_of = k
                break
        sentences.append(Sentence(a, b, text, question, tuple(clauses),
                                  any(c.verb for c in clauses), content, duplicate_of))
    return Structure(clean, tuple(sentences), len(words(clean)))


def _same(a: frozenset[str], b: frozenset[str], ta: str, tb: str) -> bool:
    if len(a) < 2 or len(b) < 2:
        return ta.lower().strip(" .!?") == tb.lower().strip(" .!?") and len(ta) > 12
    return len(a & b) / len(a | b) >= 0.7


# ---- padding -----------------------------------------------------------------------------------

PADDING_MIN_WORDS = 40  # a short reply has no room for padding
FILLERS = ("basically", "literally", "at the end of the day", "kind of", "sort of", "you know",
           "i mean", "to be honest", "needless to say", "as i said", "like i said",
           "at this point in time", "when all is said and done")
_FILLER_RE = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in FILLERS) + r")\b", re.IGNORECASE)


def repeated_phrases(structure: Structure) -> list[tuple[str, int]]:
    """Phrases used over and over: fillers said three or more times, and word sequences of three
    or more words that recur four or more times (outside sentences repeated whole)."""
    found: dict[str, int] = {}
    if structure.words < PADDING_MIN_WORDS:
        return []
    fillers = Counter(m.group(0).lower() for m in _FILLER_RE.finditer(structure.clean))
    for phrase, count in fillers.items():
        if count >= 3:
            found[phrase] = count
    lows = []
    for s in structure.sentences:
        if not s.duplicate:
            lows.append([w.lower for w in words(s.text)])
    grams: Counter[tuple[str, ...]] = Counter()
    for ws in lows:
        for i in range(len(ws) - 2):
            grams[tuple(ws[i:i + 3])] += 1
    best: list[tuple[tuple[str, ...], int]] = []
    for gram, count in grams.most_common():
        if count < 4:
            break
        if all(w in _STOP for w in gram):
            continue
        if any(set(gram) <= set(b) or len(set(gram) & set(b)) >= 2 for b, _ in best):
            continue
        best.append((gram, count))
    for gram, count in best:
        phrase = " ".join(gram)
        if not any(phrase in f or f in phrase for f in found):
            found[phrase] = count
    return sorted(found.items(), key=lambda kv: -kv[1])
