"""Knowledge lookup: names, acronyms, typos and former names, and learners' real questions.

Every query is read first (`bot.language.query`): a *definition* ("what's a nacl", "gaurdduty"),
a *task* ("how do I cut my EC2 bill", "which service records API calls") or a *comparison*
("ALB vs NLB"). Then signals rank the entries:

- *name*: how closely the query's core matches an entry's id, title or alias, letter by letter
  (rapidfuzz), so typos, acronyms and former names land on their entry;
- *mention*: an entry named word for word inside a longer query;
- *words*: field-weighted BM25 over names, jobs (what people say when they mean the entry),
  summaries and details, with word pairs as extra terms and misspelt words mapped to the nearest
  known word;
- *meaning*: cosine similarity of sentence vectors from a model shipped inside an installed
  package (`bot.language.semantic`), for paraphrases that share no words; optional.

In a definition the name decides; in a task the words and meaning decide, and an entry the
question only names as context ("where are my cloudtrail logs stored") is held back. A comparison
answers with the comparison entry when one names both sides, else with both sides. The
`confident` flag is calibrated on learner questions (docs/benchmarks.md): when unsure the caller
says so and offers the best candidates as choices.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from bot.knowledge.schema import Entry
from bot.language.query import ReadQuery, read_query, strip_question
from bot.language.semantic import Embedder, load_embedder
from bot.language.text import content_stems, normalise, stem, stem_sequence, tokens

__all__ = ["Lookup", "LookupResult", "Match", "stem", "strip_question"]

TYPO_SIMILARITY = 80.0  # below this a name is not a misspelling of the query, only a hint
FIELD_WEIGHTS = {"name": 3.0, "jobs": 2.0, "summary": 1.5, "details": 1.0}
K1, B = 1.2, 0.5
PAIR_WEIGHT = 0.6  # a word pair found together counts this much of a word
CLOSE = 5.0  # "did you mean" only for runners-up this close
CANDIDATES = 50  # entries the word signal hands to the ranking
HINT = 35.0  # an unsure answer at least this good is shown as a candidate with its summary


@dataclass(frozen=True)
class Weights:
    """How the signals combine, and when the best is confident (tuned in bench/lookup_tune.py)."""

    words: float = 0.5  # BM25 relative to the best entry
    meaning: float = 0.25  # semantic similarity relative to the best entry
    closeness: float = 0.15  # semantic similarity itself
    cover_floor: float = 0.45  # a paraphrase sharing no words still ranks, on meaning
    context: float = 0.72  # an entry a task question only names as context
    kind: float = 0.2  # boost for an entry of the kind asked for ("which design principle")
    confident: float = 60.0  # the least score of a confident answer to a question in words...
    confident_short: float = 50.0  # ...and to a short query ("data warehouse")...
    margin: float = 4.0  # ...which also needs this gap to the runner-up...
    sure: float = 78.0  # ...unless it scores at least this,
    agreed: float = 55.0  # or words and meaning both rank it first and it scores at least this
    meant: float = 0.45  # a question in words is never sure of an entry less similar in meaning,
    meant_short: float = 0.3  # nor a short query


@dataclass(frozen=True)
class Signals:
    """What one query says, before combining: see the module docstring."""

    read: ReadQuery
    words: dict[int, float]
    understood: float
    covered: dict[int, float]
    meaning: dict[int, float]
    mentions: dict[int, tuple[float, str]]
    names: dict[int, tuple[float, str]]
    terms: int  # content words in the query


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
    """Matches best first, whether the best is good enough to answer with, and the question's kind."""

    query: str
    matches: tuple[Match, ...]
    confident: bool
    kind: str = "definition"
    compared: tuple[Match, ...] = ()  # the sides of a comparison, when no entry compares them

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    def close_alternatives(self) -> list[Match]:
        """Runner-up matches genuinely close to the best one (never under a clear answer)."""
        if not self.matches or self.compared:
            return []
        top = self.matches[0].score
        return [m for m in self.matches[1:3] if top - m.score <= CLOSE]


def _name_variants(name: str) -> set[str]:
    base = normalise(name)
    variants = {base}
    no_paren = normalise(name.split("(")[0]) if "(" in name else ""
    if no_paren:
        variants.add(no_paren)
    for text in list(variants):
        for prefix in ("amazon ", "aws "):
            if text.startswith(prefix) and len(text) > len(prefix) + 1:
                variants.add(text[len(prefix):])
    return {v for v in variants if v}


def _length_order(names: list[str]) -> tuple[list[int], list[int]]:
    """Positions of `names` shortest first, and their lengths in that order."""
    order = sorted(range(len(names)), key=lambda i: len(names[i]))
    return [len(names[i]) for i in order], order


class _Bm25:
    """Field-weighted BM25 over stemmed words and adjacent word pairs."""

    def __init__(self) -> None:
        self.postings: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        self.lengths: list[float] = []

    def add(self, fields: dict[str, str]) -> None:
        index = len(self.lengths)
        length = 0.0
        for name, text in fields.items():
            weight = FIELD_WEIGHTS[name]
            sequence = stem_sequence(text)
            for term in sequence:
                self.postings[term][index] += weight
            for pair in zip(sequence, sequence[1:], strict=False):
                self.postings[" ".join(pair)][index] += weight
            length += weight * len(sequence)
        self.lengths.append(length)

    def freeze(self) -> None:
        n = max(len(self.lengths), 1)
        self.avg = sum(self.lengths) / n if self.lengths else 1.0
        self.idf = {t: math.log(1 + (n - len(d) + 0.5) / (len(d) + 0.5))
                    for t, d in self.postings.items()}
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)

    def scores(self, terms: list[tuple[str, float]]) -> dict[int, float]:
        out: dict[int, float] = defaultdict(float)
        for term, weight in terms:
            idf = self.idf.get(term)
            if idf is None:
                continue
            for index, tf in self.postings[term].items():
                norm = K1 * (1 - B + B * self.lengths[index] / self.avg)
                out[index] += weight * idf * tf * (K1 + 1) / (tf + norm)
        return out


class Lookup:
    """An index over knowledge entries, built once, queried many times."""

    def __init__(self, entries: Iterable[Entry], embedder: Embedder | None | bool = True) -> None:
        self.entries: list[Entry] = list(entries)
        self._by_id = {e.id: i for i, e in enumerate(self.entries)}
        self._names: list[str] = []
        self._compact: list[str] = []
        self._name_owner: list[int] = []
        self._name_label: list[str] = []
        self._bm25 = _Bm25()
        for index, entry in enumerate(self.entries):
            labels = [entry.title, entry.id.replace("-", " "), *entry.aliases]
            for label in labels:
                for variant in _name_variants(label):
                    self._names.append(variant)
                    self._compact.append(variant.replace(" ", ""))
                    self._name_owner.append(index)
                    self._name_label.append(label)
            self._bm25.add({"name": " ".join(labels), "jobs": " . ".join(entry.jobs),
                            "summary": entry.summary, "details": " ".join(entry.details)})
        self._bm25.freeze()
        # What kind of thing each entry is, in words: its title, aliases and course section.
        self._kinds = [frozenset(stem_sequence(" ".join([e.title, *e.aliases, e.section])))
                       for e in self.entries]
        self._vocab = [t for t in self._bm25.postings if " " not in t]
        self._name_index: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for name, owner, label in zip(self._names, self._name_owner, self._name_label,
                                      strict=True):
            self._name_index[name].append((owner, label))
        self._longest_name = max((len(n.split()) for n in self._names), default=1)
        self._surface = frozenset(word for e in self.entries for word in tokens(" ".join(
            [e.title, *e.aliases, *e.jobs, e.summary, *e.details])))
        self._surface_by_initial: dict[str, list[str]] = defaultdict(list)
        for word in sorted(self._surface):
            self._surface_by_initial[word[0]].append(word)
        self._respelled: dict[str, str] = {}
        self._by_length = {False: _length_order(self._names), True: _length_order(self._compact)}
        self._resolved: dict[str, tuple[str, float] | None] = {}
        # Each entry's names, normalised, for finding the entry that compares two others.
        self._name_text = [f" {normalise(' '.join([e.title, *e.aliases]))} " for e in self.entries]
        self._name_words: dict[str, set[int]] = defaultdict(set)
        for index, text in enumerate(self._name_text):
            for word in text.split():
                self._name_words[word].add(index)
        self._names_of: dict[int, set[str]] = defaultdict(set)
        for name, owner in zip(self._names, self._name_owner, strict=True):
            self._names_of[owner].add(name)
        # True: the shipped model, loaded on the first question in words, never for a name.
        self._embedder: Embedder | bool | None = embedder
        self._vectors: Any = None
        self._starts: Any = None

    # -- signals -------------------------------------------------------------------------------

    def _name_scores(self, core: str) -> dict[int, tuple[float, str]]:
        scores: dict[int, tuple[float, str]] = {}
        if not core:
            return scores
        compact = core.replace(" ", "")
        hits = self._close_names(core, False) + self._close_names(compact, True)
        for score, position in hits:
            name = self._names[position]
            # Short names only count when (nearly) exact: "ec2" must not match "ecs".
            if (len(name.replace(" ", "")) <= 4 or len(compact) <= 4) and score < 100:
                continue
            owner = self._name_owner[position]
            value = float(score)
            if value < TYPO_SIMILARITY:  # "going to rain" is not a typo of "going to production"
                value -= 3 * (TYPO_SIMILARITY - value)
            if value > scores.get(owner, (0.0, ""))[0]:
                scores[owner] = (value, self._name_label[position])
        return scores

    def _close_names(self, text: str, compact: bool) -> list[tuple[float, int]]:
        """(ratio, name position) for names similar to `text`: only names whose length allows a
        ratio of 60 (twice the shorter length over the sum) are compared."""
        lengths, order = self._by_length[compact]
        names = self._compact if compact else self._names
        low = bisect.bisect_left(lengths, math.floor(len(text) * 0.42))
        high = bisect.bisect_right(lengths, math.ceil(len(text) / 0.42))
        window = [names[i] for i in order[low:high]]
        return [(score, order[low + i]) for _, score, i in process.extract(
            text, window, scorer=fuzz.ratio, limit=25, score_cutoff=60)]

    def _resolve(self, term: str) -> tuple[str, float] | None:
        """A known term for a query term: itself, or its nearest spelling when unknown."""
        if term in self._bm25.idf:
            return term, 1.0
        if len(term) < 5:
            return None
        if term not in self._resolved:
            hit = process.extractOne(term, self._vocab, scorer=fuzz.ratio, score_cutoff=82)
            self._resolved[term] = (hit[0], hit[1] / 100.0) if hit else None
        return self._resolved[term]

    def _word_scores(self, query: str) -> tuple[dict[int, float], float, dict[str, float],
                                                dict[int, float]]:
        """BM25 scores relative to the best (0-1), the share of the query the index knows, each
        known term's share of the query's rarity-weighted words, and per entry the share of the
        query's rarity-weighted words it contains."""
        stems = content_stems(query)
        if not stems or all(t.isdigit() for t in stems):
            return {}, 0.0, {}, {}
        resolved = [self._resolve(t) for t in stems]
        total = sum(self._bm25.idf[r[0]] if r else self._bm25.max_idf for r in resolved)
        known = [r for r in resolved if r]
        shares = {t: self._bm25.idf[t] / total for t, _ in known}
        terms = list(known)
        sequence = [r[0] if r else "" for r in resolved]
        terms += [(f"{a} {b}", PAIR_WEIGHT) for a, b in zip(sequence, sequence[1:], strict=False)
                  if a and b]
        raw = self._bm25.scores(terms)
        if not raw:
            return {}, sum(shares.values()), shares, {}
        covered: dict[int, float] = defaultdict(float)
        for term, similarity in known:
            for index in self._bm25.postings[term]:
                covered[index] += shares[term] * similarity
        top = max(raw.values())
        best = sorted(raw, key=raw.__getitem__, reverse=True)[:CANDIDATES]
        return {i: raw[i] / top for i in best}, sum(shares.values()), shares, covered

    def _meaning_scores(self, query: str) -> dict[int, float]:
        """Cosine similarity of the query to each entry's closest text (its title and summary, or
        one of its jobs), for the 40 nearest entries."""
        if self._embedder is True:
            self._embedder = load_embedder()
        embedder = self._embedder
        if not embedder or embedder is True:
            return {}
        import numpy as np

        if self._vectors is None:
            texts: list[str] = []
            starts: list[int] = []
            for entry in self.entries:
                starts.append(len(texts))
                texts.extend((f"{entry.title}: {entry.summary}", *entry.jobs))
            self._vectors = embedder.embed(texts)
            self._starts = np.array(starts)
        # einsum, not a BLAS product: one small matrix-vector product does not repay BLAS's
        # threads, which on a busy two-core machine cost milliseconds (bench/lookup_bench.py).
        similarities = np.einsum("ij,j->i", self._vectors, embedder.embed([query])[0])
        per_entry = np.maximum.reduceat(similarities, self._starts)
        nearest = np.argpartition(-per_entry, 40)[:40] if len(per_entry) > 40 else \
            np.arange(len(per_entry))
        return {int(i): float(per_entry[i]) for i in nearest}

    def _mentions(self, query: str, shares: dict[str, float]) -> dict[int, tuple[float, str]]:
        """Entries named word for word inside a longer query, with the share of the query the
        name accounts for."""
        words = normalise(query).split()
        found: dict[int, tuple[float, str]] = {}
        for size in range(1, min(len(words), self._longest_name) + 1):
            for start in range(len(words) - size + 1):
                gram = " ".join(words[start:start + size])
                for owner, label in self._name_index.get(gram, ()):
                    covered = min(sum(shares.get(t, 0.0) for t in set(content_stems(gram))), 1.0)
                    if covered > found.get(owner, (-1.0, ""))[0]:
                        found[owner] = (covered, label)
        return found

    # -- ranking -------------------------------------------------------------------------------

    def _spell(self, query: str) -> str:
        """The query with unknown words of five letters or more replaced by the nearest word the
        knowledge base uses ("reigon" -> "region"), so every signal reads the intended word."""
        out = []
        for word in tokens(query):
            if len(word) >= 5 and word not in self._surface and not word.isdigit():
                word = self._respell(word)
            out.append(word)
        return " ".join(out)

    def _respell(self, word: str) -> str:
        """The known word one typo away (a letter left out, added, changed or two swapped),
        sharing the first letter; cached. A changed last letter is another word, not a typo
        ("printer" is not "printed"), and so is any change to a five-letter word but a swap
        ("bread" is not "broad")."""
        if word not in self._respelled:
            hits = process.extract(word, self._surface_by_initial.get(word[0], ()),
                                   scorer=fuzz.ratio, score_cutoff=75, limit=5)
            self._respelled[word] = next(
                (known for known, _, _ in hits if DamerauLevenshtein.distance(word, known) == 1
                 and not (len(known) == len(word) and known[:-1] == word[:-1])
                 and (len(word) >= 6 or sorted(known) == sorted(word))), word)
        return self._respelled[word]

    def signals(self, query: str) -> Signals:
        """Everything the ranking combines, computed once per query."""
        read = read_query(query)
        query = self._spell(query)
        words, understood, shares, covered = self._word_scores(query)
        mentions = self._mentions(query, shares)
        names = self._name_scores(read.core) if read.kind != "task" else {}
        named = max((score for score, _ in names.values()), default=0.0) >= 95.0
        # A name the query spells out needs no model; only questions in words load it.
        meaning = self._meaning_scores(query) if understood > 0 and not named else {}
        return Signals(read, words, understood, covered, meaning, mentions, names,
                       len(content_stems(query)))

    def search(self, query: str, limit: int = 5, weights: Weights | None = None) -> LookupResult:
        """Rank entries for `query`; `confident` says whether the best may be given as the answer."""
        signals = self.signals(query)
        if signals.read.kind == "comparison":
            compared = self._compare(signals.read, limit)
            if compared is not None:
                return compared
        return self.rank(signals, limit, weights or Weights())

    def rank(self, signals: Signals, limit: int, w: Weights) -> LookupResult:
        """Combine the signals into scores out of 100, best first, and decide confidence."""
        read = signals.read
        kind = "task" if read.kind == "comparison" else read.kind
        top_meaning = max(signals.meaning.values(), default=0.0)
        wanted = [stem(word) for word in read.asks_for]
        ranking: dict[int, tuple[float, str]] = {}
        for index in (set(signals.words) | set(signals.meaning) | set(signals.names)
                      | set(signals.mentions)):
            # Ranked by BM25 and meaning among entries; scaled by how much of the question this
            # entry accounts for, so a lone shared word ("yesterday") never looks like an answer.
            share = w.cover_floor + (1 - w.cover_floor) * signals.covered.get(index, 0.0)
            meaning = signals.meaning.get(index, 0.0)
            relative = meaning / top_meaning if top_meaning > 0 else 0.0
            blend = (w.words * signals.words.get(index, 0.0) + w.meaning * relative
                     + w.closeness * meaning)
            text = 100.0 * signals.understood * share * blend
            if signals.terms == 1:
                text *= 0.5  # one word found only in an entry's text ("weather") is no answer
            if wanted:
                kinds = self._kinds[index]
                text *= 1 + w.kind * sum(word in kinds for word in wanted) / len(wanted)
            name, label = signals.names.get(index, (0.0, ""))
            if index in signals.mentions:
                named_share, mention_label = signals.mentions[index]
                if kind == "task" and named_share < 0.9:
                    text *= w.context  # named as context, not asked for
                else:
                    mention = signals.understood * (70.0 + 30.0 * named_share)
                    if mention > name:
                        name, label = mention, mention_label
            value = max(text, name) + 0.05 * min(text, name)
            ranking[index] = (min(value, 100.0), label if name >= text else "")
        ranked = sorted(ranking.items(),
                        key=lambda item: (-item[1][0], self.entries[item[0]].id))[:limit]
        matches = tuple(Match(self.entries[i], round(v, 1), label) for i, (v, label) in ranked)
        agreed = bool(ranked) and all(
            signal and max(signal, key=signal.__getitem__) == ranked[0][0]
            for signal in (signals.words, signals.meaning))
        least = w.confident if kind == "task" else w.confident_short
        confident = self._confident(matches, agreed, least, w)
        if confident and signals.meaning and not matches[0].via:
            floor = w.meant if kind == "task" else w.meant_short
            confident = signals.meaning.get(ranked[0][0], 0.0) >= floor
        return LookupResult(read.text, matches, confident, kind)

    @staticmethod
    def _confident(matches: tuple[Match, ...], agreed: bool, least: float, w: Weights) -> bool:
        if not matches:
            return False
        best = matches[0].score
        if agreed and best >= w.agreed:
            return True  # two independent signals pick the same entry
        if best < least:
            return False
        if matches[0].via or best >= w.sure or len(matches) == 1:
            return True  # a name matched, or the words leave no doubt
        return best - matches[1].score >= w.margin

    def _compare(self, read: ReadQuery, limit: int) -> LookupResult | None:
        """A comparison: the entry that compares the sides, else the sides themselves."""
        sides: list[int] = []
        for side in read.sides:
            found = self._name_scores(strip_question(side))
            best = max(found.items(), key=lambda item: item[1][0], default=None)
            if best is None or best[1][0] < TYPO_SIMILARITY or best[0] in sides:
                return None
            sides.append(best[0])
        side_names = [self._names_of[s] for s in sides]
        # Only entries whose names contain a first word of every side can name them all.
        candidates = set.intersection(*(
            set().union(*(self._name_words.get(n.split()[0], set()) for n in names))
            for names in side_names))
        comparing = []
        for index in sorted(candidates - set(sides)):
            text = self._name_text[index]
            named = sum(any(f" {n} " in text for n in names) for names in side_names)
            if named == len(sides):
                comparing.append(index)
        side_matches = tuple(Match(self.entries[i], 100.0) for i in sides)
        if comparing:
            first = Match(self.entries[comparing[0]], 100.0)
            return LookupResult(read.text, (first, *side_matches)[:limit], True, "comparison")
        return LookupResult(read.text, side_matches[:limit], True, "comparison", side_matches)
