"""Fuzzy knowledge lookup: names, acronyms, misspellings, former names and natural questions.

Two signals rank every entry, and the better one wins:

- *name*: how closely the query (stripped of question words) matches an entry's id, title or an
  alias, letter by letter (rapidfuzz ratio, with and without spaces), so "gaurdduty",
  "cloud front" and "nacl" land on their entries.
- *words*: the share of the query's content words, weighted by rarity (IDF), that the entry
  contains, counting a word in a name fully, in the summary a little less and in the details
  less again; misspelt words are mapped to the nearest known word first. This answers
  paraphrases ("resizable compute capacity") and questions ("which service records API calls").

A result is `confident` only when its score clears a threshold; otherwise the caller says "no
confident match" and offers the best guesses as suggestions, never as an answer.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.knowledge.schema import Entry

CONFIDENT = 50.0
CLOSE = 8.0
PHRASE_BONUS = 0.5
MENTION_BASE = 70.0  # an entry named inside a query that is otherwise understood
TYPO_SIMILARITY = 80.0  # below this a name is not a misspelling of the query, only a hint
NAME_WEIGHT, SUMMARY_WEIGHT, DETAIL_WEIGHT = 1.0, 0.85, 0.7

QUESTION_PREFIXES = (
    "what is the difference between", "what's the difference between", "difference between",
    "what is", "what are", "what's", "whats", "what does", "what do", "who is", "tell me about",
    "explain", "define", "describe", "how does", "how do", "ask", "info on", "about",
)
STOPWORDS = frozenset("""
a an the is are was were be been being am do does did doing have has had of in on at to for from
by with about as into over under than then so and or but not no nor if which what whats who whom
whose when where why how this that these those it its it's i me my we our you your they them their
can could should would will shall may might must there here please tell explain define describe
use used using uses aws amazon service services one some any all each other vs versus between
difference differences thing things kind kinds type mean means meaning like many much
several lots lot
""".split())
WORD_RE = re.compile(r"[a-z0-9@]+(?:[.'][a-z0-9]+)*")


KEEP_WHOLE = {"objection": "objection", "objections": "objection"}  # not "object" storage


def stem(word: str) -> str:
    """A light suffix-stripping stemmer: 'scaling', 'scales', 'scaled' and 'scale' meet."""
    if word in KEEP_WHOLE:
        return KEEP_WHOLE[word]
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ly") and len(word) > 6:  # "centrally" meets "central"
        word = word[:-2]
    for suffix, repl in (("tions", "t"), ("tion", "t"), ("ies", "y"), ("ing", ""), ("ed", ""),
                         ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                break
            word = word[: len(word) - len(suffix)] + repl
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of `text`."""
    return WORD_RE.findall(text.lower().replace("’", "'"))


def stem_sequence(text: str) -> list[str]:
    """Stems of the meaningful words in order, repeats kept (for phrase matching)."""
    return [stem(word) for word in tokens(text) if word not in STOPWORDS]


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stopwords), in order, without repeats."""
    seen: dict[str, None] = {}
    for word in tokens(text):
        if word in STOPWORDS:
            continue
        seen.setdefault(stem(word), None)
    return list(seen)


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces."""
    return " ".join(re.sub(r"[^a-z0-9@&]+", " ", text.lower()).split())


def strip_question(text: str) -> str:
    """'what is amazon s3?' -> 'amazon s3'; the core of a query for name matching."""
    core = normalise(text)
    changed = True
    while changed:
        changed = False
        for prefix in QUESTION_PREFIXES:
            if core.startswith(prefix + " "):
                core = core[len(prefix) + 1:]
                changed = True
        for article in ("a ", "an ", "the "):
            if core.startswith(article):
                core = core[len(article):]
                changed = True
    return core


def _name_variants(name: str) -> set[str]:
    base = normalise(name)
    variants = {base}
    no_paren = normalise(re.sub(r"\(.*?\)", " ", name))
    if no_paren:
        variants.add(no_paren)
    for text in list(variants):
        for prefix in ("amazon ", "aws "):
            if text.startswith(prefix) and len(text) > len(prefix) + 1:
                variants.add(text[len(prefix):])
    return {v for v in variants if v}


@dataclass(frozen=True)
class WordSignal:
    """What the words of a query say: coverage per entry, and how well the query is understood
    (share of its rarity-weighted words the index knows, and each known word's share)."""

    scores: dict[int, float]
    known_share: float
    weights: dict[str, float]


@dataclass(frozen=True)
class Match:
    """One ranked result."""

    entry: Entry
    score: float
    via: str = ""  # the name or alias the query matched, when it matched a name

    @property
    def former_name(self) -> bool:
        via = normalise(self.via)
        return any(normalise(f) == via for f in self.entry.former_names)


@dataclass(frozen=True)
class LookupResult:
    """Matches best first, and whether the best one is good enough to answer with."""

    query: str
    matches: tuple[Match, ...]
    confident: bool

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    def close_alternatives(self) -> list[Match]:
        """Runner-up matches whose score is within reach of the best one."""
        if not self.matches:
            return []
        top = self.matches[0].score
        return [m for m in self.matches[1:4] if top - m.score <= CLOSE]


class Lookup:
    """An index over knowledge entries, built once, queried many times."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: list[Entry] = list(entries)
        self._names: list[str] = []
        self._compact: list[str] = []
        self._name_owner: list[int] = []
        self._name_label: list[str] = []
        self._postings: dict[str, dict[int, float]] = defaultdict(dict)
        self._phrases: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
        for index, entry in enumerate(self.entries):
            labels = [entry.title, entry.id.replace("-", " "), *entry.aliases]
            for label in labels:
                for variant in _name_variants(label):
                    self._names.append(variant)
                    self._compact.append(variant.replace(" ", ""))
                    self._name_owner.append(index)
                    self._name_label.append(label)
            self._post(index, " ".join(labels), NAME_WEIGHT)
            self._post(index, entry.summary, SUMMARY_WEIGHT)
            self._post(index, " ".join(entry.details), DETAIL_WEIGHT)
        n_docs = max(len(self.entries), 1)
        self._idf = {
            term: math.log(1 + n_docs / len(docs)) for term, docs in self._postings.items()
        }
        self._max_idf = math.log(1 + n_docs)
        self._vocab = list(self._postings)

    def _post(self, index: int, text: str, weight: float) -> None:
        for term in content_stems(text):
            postings = self._postings[term]
            if postings.get(index, 0.0) < weight:
                postings[index] = weight
        sequence = stem_sequence(text)
        for pair in zip(sequence, sequence[1:], strict=False):
            phrases = self._phrases[pair]
            if phrases.get(index, 0.0) < weight:
                phrases[index] = weight

    def _name_scores(self, core: str) -> dict[int, tuple[float, str]]:
        scores: dict[int, tuple[float, str]] = {}
        if not core:
            return scores
        compact = core.replace(" ", "")
        hits = process.extract(core, self._names, scorer=fuzz.ratio, limit=25, score_cutoff=60)
        hits += process.extract(compact, self._compact, scorer=fuzz.ratio, limit=25,
                                score_cutoff=60)
        for _, score, position in hits:
            name = self._names[position]
            # Short names only count when (nearly) exact: "ec2" must not match "ecs".
            if len(name.replace(" ", "")) <= 4 and score < 100:
                continue
            if len(compact) <= 4 and score < 100:
                continue
            owner = self._name_owner[position]
            value = float(score)
            if value < TYPO_SIMILARITY:  # "going to rain" is not a typo of "going to production"
                value -= 3 * (TYPO_SIMILARITY - value)
            if value > scores.get(owner, (0.0, ""))[0]:
                scores[owner] = (value, self._name_label[position])
        return scores

    def _resolve_term(self, term: str) -> list[tuple[str, float]]:
        """Known terms for a query term: itself, or its nearest spelling when unknown."""
        if term in self._postings:
            return [(term, 1.0)]
        if len(term) < 5:
            return []
        hit = process.extractOne(term, self._vocab, scorer=fuzz.ratio, score_cutoff=82)
        if hit is None:
            return []
        return [(hit[0], hit[1] / 100.0)]

    def _word_scores(self, query: str) -> WordSignal:
        """Coverage score per entry, and how much of the query the index understands."""
        terms = content_stems(query)
        if not terms or all(term.isdigit() for term in terms):
            return WordSignal({}, 0.0, {})
        total = 0.0
        gained: dict[int, float] = defaultdict(float)
        named: dict[int, bool] = defaultdict(bool)
        known_terms: list[str | None] = []
        for term in terms:
            resolved = self._resolve_term(term)
            if not resolved:
                total += self._max_idf
                known_terms.append(None)
                continue
            known, similarity = resolved[0]
            known_terms.append(known)
            idf = self._idf[known]
            total += idf
            for index, weight in self._postings[known].items():
                gained[index] += idf * weight * similarity
                named[index] |= weight == NAME_WEIGHT
        # Words that stand together in the query and in an entry ("data warehouse", "cost
        # objection") are worth more than the same words scattered through its details.
        for first, second in zip(known_terms, known_terms[1:], strict=False):
            if first is None or second is None:
                continue
            bonus = PHRASE_BONUS * (self._idf[first] + self._idf[second]) / 2
            for index, weight in self._phrases.get((first, second), {}).items():
                gained[index] += bonus * weight
        if total <= 0:
            return WordSignal({}, 0.0, {})
        weights = {t: self._idf[t] / total for t in known_terms if t is not None}
        # One word found only in an entry's text ("life", "capital") is not enough to answer.
        single = len(terms) == 1
        known_share = sum(weights.values())
        # The phrase bonus ranks, but never makes a partly understood query look understood.
        scores = {index: min(100.0 * value / total, 100.0 * known_share)
                  * (0.5 if single and not named[index] else 1.0)
                  for index, value in gained.items()}
        return WordSignal(scores, known_share, weights)

    def _mentions(self, query: str, words: WordSignal) -> dict[int, tuple[float, str]]:
        """Entries named word for word inside a longer query ("what does amazon athena cost",
        "difference between rds and dynamodb"), scored by how much of the query is understood."""
        padded = f" {normalise(query)} "
        found: dict[int, tuple[float, str]] = {}
        for name, owner, label in zip(self._names, self._name_owner, self._name_label,
                                      strict=True):
            if f" {name} " in padded:
                # How much of the query the name itself accounts for: "rds" in "rds and
                # dynamodb" a lot, "solution" in a long sentence about proofs of concept little.
                covered = sum(words.weights.get(t, 0.0) for t in set(content_stems(name)))
                score = words.known_share * (MENTION_BASE
                                             + (100.0 - MENTION_BASE) * min(covered, 1.0))
                if score > found.get(owner, (0.0, ""))[0]:
                    found[owner] = (score, label)
        return found

    def search(self, query: str, limit: int = 5) -> LookupResult:
        """Rank entries for `query`; `confident` says whether the best may be given as the answer."""
        core = strip_question(query)
        names = self._name_scores(core)
        signal = self._word_scores(query)
        words = signal.scores
        for index, (score, label) in self._mentions(query, signal).items():
            if score > names.get(index, (0.0, ""))[0]:
                names[index] = (score, label)
        ranking: dict[int, tuple[float, float, float, str]] = {}
        for index in set(names) | set(words):
            name_score, label = names.get(index, (0.0, ""))
            word_score = words.get(index, 0.0)
            # Agreeing signals add a little, so the entry both named and described wins a tie.
            value = max(word_score, name_score) + min(word_score, name_score) * 0.05
            ranking[index] = (value, name_score, word_score, label if name_score >= word_score
                              else "")
        ranked = sorted(ranking.items(),
                        key=lambda item: (-item[1][0], -item[1][1], -item[1][2],
                                          self.entries[item[0]].id))
        matches = tuple(
            Match(self.entries[index], round(min(value, 100.0), 1), label)
            for index, (value, _, _, label) in ranked[:limit]
        )
        confident = bool(matches) and matches[0].score >= CONFIDENT
        return LookupResult(query, matches, confident)
