"""Word-level phrase matching for role-play grading: tokens, light stemming, negation windows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
# Negation does not reach across punctuation or into a new clause ("You won't lose orders because
# Auto Scaling adds capacity"); it does reach along a list ("no need for Auto Scaling or load balancing").
_CLAUSE_BREAK_RE = re.compile(
    r"[.,;:!?()\u2014\u2013]|\s-\s|\b(?:but|however|although|because|since|so|while|when|if"
    r"|unless|which|whereas|then|thanks|instead)\b"
    r"|\band (?:you|we|they|it|aws|your|our|the|this|that|i)\b", re.IGNORECASE)

# Suffixes removed (first match only) so that "encrypted", "encryption" and "encrypts" compare equal.
_SUFFIXES = (
    "ations", "ation", "ities", "ity", "ments", "ment", "ings", "ing", "ions", "ion",
    "ances", "ance", "ences", "ence", "ives", "ive", "ies", "ied", "ed", "es", "ly", "s",
)

NEGATORS = frozenset({
    "not", "no", "never", "without", "nor", "neither", "none", "nothing", "cannot", "hardly",
    "lack", "lacks", "lacking", "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't",
    "weren't", "won't", "can't", "couldn't", "shouldn't", "wouldn't", "haven't", "hasn't",
})
# "not only", "not just", "no doubt", "no matter": a negator followed by one of these negates nothing.
_NEGATION_EXCEPTIONS = frozenset({"only", "just", "merely", "simply", "doubt", "matter"})
# "encryption is not needed": the phrase is named, then dismissed.
_DISMISSED = frozenset({"needed", "required", "necessary", "important", "relevant", "useful",
                        "worth", "helpful", "needs"})
_DISMISSED_ALONE = frozenset({"unnecessary", "overkill", "pointless", "irrelevant", "optional"})
NEGATION_WINDOW = 6
# "not paying for idle servers", "no longer buying hardware for the peak": the negation falls on a
# cost the customer avoids, so what follows is the point being made, not something denied.
_PRIVATIVE_VERBS = frozenset({"pay", "buy", "purchas", "spend", "wast", "overpay", "overspend",
                              "maintain", "replac", "refresh", "sizing", "siz", "provision",
                              "over-provision", "lose", "los", "drop"})


def normalise_quotes(text: str) -> str:
    """Straight apostrophes and quotes, so "don’t" and "don't" read the same."""
    return (text.replace("\u2019", "'").replace("\u2018", "'")
            .replace("\u201c", '"').replace("\u201d", '"'))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light stemmer: 'customers' -> 'customer', 'secure'/'security' -> 'secur'."""
    w = normalise_quotes(word).lower()
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'")
    if w.endswith("ss") or len(w) <= 3:
        return w
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if len(w) > 4 and w[-1] in "eiy":
        w = w[:-1]
    return w


@dataclass(frozen=True)
class Token:
    """One word of a text with its stem and its character span in the text."""

    text: str
    stem: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def tokenize(text: str) -> list[Token]:
    """Words of `text` (hyphens and punctuation split words; apostrophes stay inside them)."""
    return list(_tokenize(text))


@lru_cache(maxsize=8192)
def _tokenize(text: str) -> tuple[Token, ...]:
    clean = normalise_quotes(text)
    return tuple(Token(m.group(0), stem(m.group(0)), m.start(), m.end())
                 for m in _TOKEN_RE.finditer(clean))


@dataclass(frozen=True)
class Match:
    """A phrase found in a text: its span, the exact words, and whether it was negated."""

    start: int
    end: int
    text: str
    negated: bool


@lru_cache(maxsize=16384)
def phrase_stems(phrase: str) -> tuple[str, ...]:
    """The stems of a phrase, as `Text.find_stems` compares them."""
    return tuple(t.stem for t in tokenize(phrase))


class Text:
    """A learner's reply prepared once for many phrase look-ups."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.clean = normalise_quotes(raw)
        self.tokens = tokenize(raw)
        self.stems = [t.stem for t in self.tokens]
        self.positions: dict[str, list[int]] = {}
        for i, s in enumerate(self.stems):
            self.positions.setdefault(s, []).append(i)

    def words(self) -> int:
        return len(self.tokens)

    def quote(self, start: int, end: int) -> str:
        return self.raw[start:end]

    def _same_clause(self, start: int, end: int) -> bool:
        return _CLAUSE_BREAK_RE.search(self.clean[start:end]) is None

    def negated_at(self, first: int, last: int) -> bool:
        """Whether tokens first..last are negated by a word a few words before them (same clause),
        or dismissed right after them ("encryption is not needed")."""
        tokens = self.tokens
        start_char = tokens[first].start
        for i in range(max(0, first - NEGATION_WINDOW), first):
            word = tokens[i].lower
            is_negator = word in NEGATORS or word.endswith("n't")
            if not is_negator or not self._same_clause(tokens[i].end, start_char):
                continue
            following = tokens[i + 1].lower if i + 1 < len(tokens) else ""
            if following in _NEGATION_EXCEPTIONS:
                continue
            if any(self.stems[j] in _PRIVATIVE_VERBS for j in range(i + 1, first)):
                continue
            return True
        end_char = tokens[last].end
        after = range(last + 1, min(len(tokens), last + 1 + NEGATION_WINDOW))
        for i in after:
            if not self._same_clause(end_char, tokens[i].start):
                break
            word = tokens[i].lower
            if word in _DISMISSED_ALONE:
                return True
            if (word in NEGATORS or word.endswith("n't")) and i + 1 < len(tokens):
                if tokens[i + 1].lower in _DISMISSED and self._same_clause(end_char,
                                                                           tokens[i + 1].start):
                    return True
        return False

    def find(self, phrase: str) -> list[Match]:
        """Every occurrence of `phrase`, compared word by word on stems."""
        return self.find_stems(phrase_stems(phrase))

    def find_stems(self, wanted: tuple[str, ...]) -> list[Match]:
        """Every occurrence of a phrase given as its stems (see `phrase_stems`)."""
        if not wanted:
            return []
        n = len(wanted)
        found: list[Match] = []
        for i in self.positions.get(wanted[0], ()):
            if i + n <= len(self.stems) and (n == 1 or tuple(self.stems[i:i + n]) == wanted):
                start, end = self.tokens[i].start, self.tokens[i + n - 1].end
                found.append(Match(start, end, self.quote(start, end),
                                   self.negated_at(i, i + n - 1)))
        return found

    def find_first_positive(self, phrases: tuple[str, ...] | list[str]) -> Match | None:
        """The earliest non-negated occurrence of any of `phrases` (longest wins on a tie)."""
        best: Match | None = None
        for phrase in phrases:
            for match in self.find(phrase):
                if match.negated:
                    continue
                if best is None or (match.start, -match.end) < (best.start, -best.end):
                    best = match
        return best


def regex_matches(patterns: tuple[re.Pattern[str], ...], text: Text) -> list[Match]:
    """Non-overlapping regex matches over the reply (longest first where they overlap)."""
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        for m in pattern.finditer(text.clean):
            if m.end() > m.start():
                spans.append((m.start(), m.end()))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[Match] = []
    last_end = -1
    for start, end in spans:
        if start < last_end:
            continue
        kept.append(Match(start, end, text.quote(start, end), False))
        last_end = end
    return kept


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text` (split after . ! ? and at line breaks)."""
    spans: list[tuple[int, int]] = []
    for m in re.finditer(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|$)", text):
        chunk = m.group(0)
        stripped = chunk.strip()
        if not stripped or not re.search(r"[A-Za-z0-9]", stripped):
            continue
        lead = len(chunk) - len(chunk.lstrip())
        spans.append((m.start() + lead, m.start() + lead + len(stripped)))
    return spans
