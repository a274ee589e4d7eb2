"""Normalising text as chat platforms send it: case, straight and curly quotes, words and stems."""

from __future__ import annotations

import re
from functools import lru_cache

# Slack and Teams send curly apostrophes and quotes; some keyboards send primes or backticks.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'",
                         "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"'})
_APOSTROPHE_IN_WORD = re.compile(r"(?<=[a-z0-9])'(?=[a-z])")
WORD_RE = re.compile(r"[a-z0-9@]+(?:[.][a-z0-9]+)*")

STOPWORDS = frozenset("""
a an the is are was were be been being am do does did doing have has had of in on at to for from
by with about as into over under than then so and or but not no nor if which what whats who whom
whose when where why how this that these those it its i me my we our you your they them their
can could should would will shall may might must there here please tell explain define describe
use used using uses aws amazon service services one some any all each other vs versus between
difference differences thing things kind kinds type mean means meaning like many much
several lots lot im ive id dont doesnt isnt arent cant wont get got need want wanna just really
s t d ll re ve whether
""".split())

KEEP_WHOLE = {"objection": "objection", "objections": "objection"}  # not "object" storage


def normalise_quotes(text: str) -> str:
    """Curly quotes and primes to straight ones."""
    return text.translate(_QUOTES)


def fold(text: str) -> str:
    """Lower case with apostrophes inside words removed: "What’s" and "what's" become "whats"."""
    return _APOSTROPHE_IN_WORD.sub("", normalise_quotes(text).lower())


def normalise(text: str) -> str:
    """Folded text with punctuation as spaces and single spaces: a form for name comparison."""
    return " ".join(re.sub(r"[^a-z0-9@&]+", " ", fold(text)).split())


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of `text`, apostrophes folded."""
    return WORD_RE.findall(fold(text))


@lru_cache(maxsize=65536)
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


def stem_sequence(text: str) -> list[str]:
    """Stems of the meaningful words in order, repeats kept (for phrase matching)."""
    return [stem(word) for word in tokens(text) if word not in STOPWORDS]


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stopwords), in order, without repeats."""
    return list(dict.fromkeys(stem_sequence(text)))
