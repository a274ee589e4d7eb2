"""Question bank figures: answer-length give-aways, true/false balance, absolute words, near-duplicates."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from rapidfuzz import fuzz

from bot.knowledge.schema import Question

# Targets (docs/content-authoring.md, "Question bank figures").
LONGEST_CORRECT_BELOW = 0.28  # share of single-answer questions whose answer is strictly the longest
FALSE_SHARE_BETWEEN = (0.40, 0.60)  # share of true/false questions answered false, whole bank
# Options containing an absolute word must be right at least this fraction as often as options are
# right in general, so "an absolute word marks a wrong option" gains a learner nothing.
ABSOLUTE_CORRECT_RATIO_AT_LEAST = 0.75
ABSOLUTE_WORDS = ("always", "never", "all", "none", "only", "guaranteed", "definitely",
                  "completely", "every")
# Near-duplicates: prompts that are the same words (token-set similarity of the normalised prompts),
# or questions about the same entry or with the same right answer whose prompt-plus-answer wording
# is close (token-sort similarity, stop words removed).
PROMPT_SIMILARITY = 90
RELATED_SIMILARITY = 70

ABSOLUTE_RE = re.compile(r"\b(?:" + "|".join(ABSOLUTE_WORDS) + r")\b", re.IGNORECASE)
_TRUE_OR_FALSE = re.compile(r"^\s*true or false\s*[:?.,]?\s*", re.IGNORECASE)
_CHOOSE = re.compile(r"\(choose (?:two|three)\.\)", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from in is it its of on or should that the their "
    "they this to what which with".split())


def correct_is_longest(question: Question) -> bool:
    """Whether a question's only correct option has strictly more characters than every other."""
    if len(question.answer) != 1:
        return False
    right = len(question.options[question.answer[0]].text)
    return all(right > len(o.text) for i, o in enumerate(question.options) if i != question.answer[0])


def correct_is_shortest(question: Question) -> bool:
    """Whether a question's only correct option has strictly fewer characters than every other."""
    if len(question.answer) != 1:
        return False
    right = len(question.options[question.answer[0]].text)
    return all(right < len(o.text) for i, o in enumerate(question.options) if i != question.answer[0])


def has_absolute_word(text: str) -> bool:
    """Whether `text` contains one of ABSOLUTE_WORDS as a whole word."""
    return ABSOLUTE_RE.search(text) is not None


def statement(question: Question) -> str:
    """A true/false question's statement, without its "True or false" lead-in."""
    return _TRUE_OR_FALSE.sub("", question.prompt).strip()


def _choices(question: Question) -> list[tuple[str, bool]]:
    """What a learner picks between, with whether each is right: options, or a true/false statement."""
    if question.kind == "truefalse":
        return [(statement(question), question.answer == (0,))]
    return [(o.text, i in question.answer) for i, o in enumerate(question.options)]


def _tokens(text: str, drop_stopwords: bool) -> list[str]:
    text = _CHOOSE.sub(" ", _TRUE_OR_FALSE.sub("", text.lower()))
    return [w for w in _WORD.findall(text) if not (drop_stopwords and w in _STOPWORDS)]


def _right_texts(question: Question) -> set[str]:
    if question.kind == "truefalse":
        return set()
    return {" ".join(_tokens(question.options[i].text, False)) for i in question.answer}


def near_duplicates(questions: Iterable[Question]) -> list[dict[str, Any]]:
    """Pairs of questions that ask the same thing in nearly the same words.

    A pair is a near-duplicate when the token-set similarity of the normalised prompts (lower
    case, punctuation, "True or false" and "(Choose two.)" removed) is at least PROMPT_SIMILARITY,
    or when both test the same entry or share a right option text and the token-sort similarity of
    prompt plus right options, stop words removed, is at least RELATED_SIMILARITY.
    """
    items = []
    for q in questions:
        prompt = " ".join(_tokens(q.prompt, False))
        right = sorted(_right_texts(q))
        fact = " ".join(_tokens(" ".join([q.prompt, *right]), True))
        items.append((q, prompt, set(right), fact))
    pairs: list[dict[str, Any]] = []
    for (a, prompt_a, right_a, fact_a), (b, prompt_b, right_b, fact_b) in itertools.combinations(
            items, 2):
        score = fuzz.token_set_ratio(prompt_a, prompt_b)
        if score >= PROMPT_SIMILARITY:
            pairs.append({"questions": [a.id, b.id], "similarity": round(score), "rule": "prompt"})
            continue
        if a.entry == b.entry or right_a & right_b:
            score = fuzz.token_sort_ratio(fact_a, fact_b)
            if score >= RELATED_SIMILARITY:
                pairs.append({"questions": [a.id, b.id], "similarity": round(score),
                              "rule": "same entry or answer"})
    return pairs


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _longest(questions: list[Question]) -> dict[str, Any]:
    singles = [q for q in questions if q.kind == "single" and len(q.answer) == 1]
    longest = sum(correct_is_longest(q) for q in singles)
    share = _share(longest, len(singles))
    return {"questions": len(singles), "longest": longest, "share": share,
            "shortest": sum(correct_is_shortest(q) for q in singles),
            "within_target": share is None or share < LONGEST_CORRECT_BELOW}


def _false(questions: list[Question]) -> dict[str, Any]:
    statements = [q for q in questions if q.kind == "truefalse"]
    false = sum(q.answer == (1,) for q in statements)
    return {"questions": len(statements), "false": false, "share": _share(false, len(statements))}


def _absolute(questions: list[Question]) -> dict[str, int]:
    counts = {"correct": 0, "wrong": 0, "choices": 0, "correct_choices": 0}
    for q in questions:
        for text, right in _choices(q):
            counts["choices"] += 1
            counts["correct_choices"] += right
            if has_absolute_word(text):
                counts["correct" if right else "wrong"] += 1
    return counts


def bank_stats(questions: Iterable[Question], domains: Sequence[str] = ()) -> dict[str, Any]:
    """The figures of the `question_bank` report, for the whole bank and per domain.

    `domains` orders the per-domain figures; domains of questions not listed follow in the order
    first met.
    """
    bank = list(questions)
    order = list(dict.fromkeys([*domains, *(q.domain for q in bank)]))
    by_domain = {d: [q for q in bank if q.domain == d] for d in order}

    longest = _longest(bank)
    longest["domains"] = {d: _longest(qs) for d, qs in by_domain.items()}
    longest["within_target"] = longest["within_target"] and all(
        row["within_target"] for row in longest["domains"].values())

    false = _false(bank)
    low, high = FALSE_SHARE_BETWEEN
    false["within_target"] = false["share"] is None or low <= false["share"] <= high
    false["domains"] = {d: _false(qs) for d, qs in by_domain.items()}

    counts = _absolute(bank)
    with_word = counts["correct"] + counts["wrong"]
    base = _share(counts["correct_choices"], counts["choices"])
    right_share = _share(counts["correct"], with_word)
    absolute = {
        "words": list(ABSOLUTE_WORDS), "correct": counts["correct"], "wrong": counts["wrong"],
        "correct_share": right_share, "base_correct_share": base,
        "within_target": with_word == 0 or (
            counts["correct"] > 0 and right_share is not None and base is not None
            and right_share >= ABSOLUTE_CORRECT_RATIO_AT_LEAST * base),
        "domains": {d: {k: v for k, v in _absolute(qs).items() if k in ("correct", "wrong")}
                    for d, qs in by_domain.items()},
    }

    pairs = near_duplicates(bank)
    duplicates = {"count": len(pairs), "pairs": pairs, "within_target": not pairs}
    return {
        "targets": {
            "longest_correct_below": LONGEST_CORRECT_BELOW,
            "truefalse_false_between": list(FALSE_SHARE_BETWEEN),
            "absolute_correct_ratio_at_least": ABSOLUTE_CORRECT_RATIO_AT_LEAST,
            "near_duplicates": 0,
        },
        "longest_correct": longest,
        "truefalse_false": false,
        "absolute_words": absolute,
        "near_duplicates": duplicates,
        "within_target": all(x["within_target"] for x in (longest, false, absolute, duplicates)),
    }


def target_warnings(stats: dict[str, Any]) -> list[str]:
    """One line per figure of `bank_stats` that misses its target."""
    lines = []
    for domain, row in stats["longest_correct"]["domains"].items():
        if not row["within_target"]:
            lines.append(f"the correct option is strictly the longest in {row['share']:.0%} of "
                         f"{domain} single-answer questions (target under "
                         f"{LONGEST_CORRECT_BELOW:.0%})")
    false = stats["truefalse_false"]
    if not false["within_target"]:
        low, high = FALSE_SHARE_BETWEEN
        lines.append(f"{false['share']:.0%} of true/false questions are false (target "
                     f"{low:.0%}-{high:.0%})")
    absolute = stats["absolute_words"]
    if not absolute["within_target"]:
        lines.append(f"absolute words mostly mark wrong options ({absolute['correct']} correct, "
                     f"{absolute['wrong']} wrong)")
    for pair in stats["near_duplicates"]["pairs"]:
        first, second = pair["questions"]
        lines.append(f"near-duplicate questions '{first}' and '{second}' "
                     f"({pair['rule']}, similarity {pair['similarity']})")
    return lines


def report_lines(stats: dict[str, Any]) -> list[str]:
    """The figures of `bank_stats` as the few lines `aws-quiz knowledge check` prints."""
    longest, false = stats["longest_correct"], stats["truefalse_false"]
    absolute, pairs = stats["absolute_words"], stats["near_duplicates"]
    low, high = FALSE_SHARE_BETWEEN
    lines = [
        f"{'correct option strictly the longest':<40} {longest['share'] or 0:>4.0%} of "
        f"{longest['questions']} single-answer (target under {LONGEST_CORRECT_BELOW:.0%} "
        "in every domain)",
        f"{'true/false answered false':<40} {false['share'] or 0:>4.0%} of {false['questions']} "
        f"(target {low:.0%}-{high:.0%})",
        f"{'options with absolute words':<40} {absolute['correct_share'] or 0:>4.0%} correct "
        f"({absolute['correct']} of {absolute['correct'] + absolute['wrong']}; all options "
        f"{absolute['base_correct_share'] or 0:.0%})",
        f"{'near-duplicate question pairs':<40} {pairs['count']:>4}",
    ]
    return lines + [f"warning: {line}" for line in target_warnings(stats)]
