"""Coaching for a role-play turn: the "Try:" suggestions of a grade and the `hint` lines.

Coaching speaks about *this* scenario and *this* turn: the question to ask comes from the
scenario's model answer for the turn, the point to make from its concepts' `try` texts (after the
customer reveals the concern, the concept that answers that concern; after a pushback, the one
that answers the pushback), the close from its `next_steps`. Coaching never contradicts the
grader: no example it gives trips the absolutes, dismissive or jargon rules, and it never asks the
learner to echo a word the grader would penalise.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.roleplay.grader import (
    STEP_POINTS,
    STOPWORDS,
    TOPIC_WORDS,
    _content_stems,
    _first_open_question,
    _Grading,
    _Question,
    penalised_words,
)
from bot.roleplay.matching import stem, tokenize
from bot.roleplay.scenarios import Concept, Evidence, Scenario
from bot.roleplay.sentences import VERB_FORMS

_SAFE: dict[tuple[str, int, str], bool] = {}


def is_safe(text: str, scenario: Scenario, customer_words: str = "") -> bool:
    """Whether `text` passes the grader's do-nots for this scenario (absolutes, dismissive
    phrasing, jargon): a learner who copies it loses nothing."""
    key = (text, id(scenario), customer_words)
    hit = _SAFE.get(key)
    if hit is None:
        run = _Grading(text, scenario, "opening", customer_words or scenario.opening_line, {})
        run.absolutes()
        run.dismissive()
        run.jargon()
        hit = not run.penalties
        if len(_SAFE) > 8192:
            _SAFE.clear()
        _SAFE[key] = hit
    return hit


def _relevance(item: Concept | Evidence, stems: frozenset[str]) -> int:
    own = _content_stems(" ".join((item.label, item.try_text, *item.aliases)))
    return len(own & stems)


def concern_concepts(scenario: Scenario) -> list[Concept]:
    """The scenario's concepts that answer the hidden concern, most relevant first."""
    stems = _content_stems(" ".join(scenario.hidden_concern.keywords) + " "
                           + scenario.hidden_concern.reveal + " "
                           + scenario.hidden_concern.summary)
    ranked = sorted(scenario.concepts, key=lambda c: (-_relevance(c, stems), -c.weight))
    return [c for c in ranked if _relevance(c, stems) > 0] or ranked[:1]


def _for_line(scenario: Scenario, line: str) -> Concept | Evidence | None:
    """The concept or evidence that best answers a customer's line ("Our regulator will want
    proof" -> third-party assurance); evidence when nothing matches (a pushback asks for proof)."""
    stems = _content_stems(line) - {stem(w) for w in TOPIC_WORDS.get(scenario.topic, "").split()}
    items: list[Concept | Evidence] = [*scenario.evidence, *scenario.concepts]
    best = max(items, key=lambda i: _relevance(i, stems), default=None)
    if best is not None and _relevance(best, stems) > 0:
        return best
    return scenario.evidence[0] if scenario.evidence else (
        scenario.concepts[0] if scenario.concepts else None)


def _pushback_index(scenario: Scenario, line: str) -> int:
    for i, pushback in enumerate(scenario.pushbacks):
        if pushback.strip() and pushback.strip() in line:
            return i
    return -1


def turn_question(scenario: Scenario, turn: str, line: str = "") -> str:
    """An open question for this turn, from the scenario's model answer for it."""
    answer = scenario.model_answers.opening
    if turn == "concern":
        answer = scenario.model_answers.concern
    elif turn == "pushback":
        i = _pushback_index(scenario, line)
        if 0 <= i < len(scenario.model_answers.pushbacks):
            answer = scenario.model_answers.pushbacks[i]
    question = _first_open_question(scenario, answer)
    return question if is_safe(question, scenario) else "What matters most to you here?"


def turn_next_step(scenario: Scenario, turn: str, line: str = "") -> str:
    """A close for this turn: the scenario's next steps, a different one per turn."""
    steps = [s for s in scenario.next_steps if is_safe(s, scenario)]
    if not steps:
        return "Could we look at this together next week?"
    index = {"opening": 0, "concern": 1}.get(turn, 2 + max(0, _pushback_index(scenario, line)))
    return steps[index % len(steps)]


_SALIENT: dict[tuple[str, int], list[str]] = {}


def _salient_words(text: str, scenario: Scenario) -> list[str]:
    """The customer's words most worth echoing: topic words first, then the longest; never a word
    the grader penalises ("never", "guaranteed") or jargon."""
    key = (text, id(scenario))
    if key not in _SALIENT:
        if len(_SALIENT) > 4096:
            _SALIENT.clear()
        _SALIENT[key] = _rank_salient(text, scenario)
    return _SALIENT[key]


def _rank_salient(text: str, scenario: Scenario) -> list[str]:
    topic = {stem(w) for w in TOPIC_WORDS.get(scenario.topic, "").split()}
    banned = {w.lower() for phrase in penalised_words(text) for w in phrase.split()}
    jargon = {j.term.lower() for j in scenario.jargon}
    found: dict[str, str] = {}
    for token in tokenize(text):
        low = token.lower
        if low in STOPWORDS or len(token.text) <= 3 or low in banned or low in jargon:
            continue
        if low in VERB_FORMS and stem(low) not in topic:
            continue  # "goes", "says": not the words that carry the worry
        if token.text.isupper():
            continue
        found.setdefault(token.stem, token.text)
    ranked = sorted(found.items(), key=lambda kv: (kv[0] not in topic, -len(kv[1])))
    return [w for _, w in ranked]


def suggestions(scenario: Scenario, turn: str, customer_words: str, *, acks: int, echoed: bool,
                questions: Sequence[_Question], missing: Sequence[Concept],
                evidence_tip: Evidence | None, step: int, your: int, long_term: bool,
                ask_frame: bool, reply_stems: Sequence[str]) -> list[str]:
    """The "Try:" lines for a graded reply, most useful first, in this turn's terms."""
    out: list[str] = []

    def add(text: str, first: bool = False) -> None:
        line = f"Try: {text}"
        if line not in out:
            out.insert(0, line) if first else out.append(line)

    # after the reveal or a pushback, answer what the customer just said, first
    reply = set(reply_stems)
    if turn == "concern":
        concern = concern_concepts(scenario)
        answered = not ask_frame and any(set(_content_stems(" ".join(c.aliases))) & reply
                                         for c in concern[:2])
        if not answered and concern:
            keywords = ", ".join(scenario.hidden_concern.keywords[:3])
            lead = "once they answer, " if ask_frame else ""
            add(f"{lead}answer the concern they just shared ({keywords}): "
                f"{concern[0].try_text}")
    elif turn == "pushback":
        item = _for_line(scenario, customer_words)
        if item is not None and (ask_frame
                                 or not set(_content_stems(" ".join(item.aliases))) & reply):
            lead = "once they answer, " if ask_frame else ""
            add(f"{lead}answer the pushback directly: {item.try_text}")
    if not acks:
        add('acknowledge the worry before answering, e.g. "I can see why that matters to you" '
            'or "That\'s a fair point".')
    if not echoed:
        key_words = _salient_words(customer_words, scenario)[:3]
        example = ", ".join(f'"{w}"' for w in key_words)
        add("reflect the customer's own words back"
            + (f" (they said {example})" if example else "") + " to show you listened.")
    opened = [q for q in questions if q.kind == "open"]
    example = turn_question(scenario, turn, customer_words)
    if not opened:
        closed = [q for q in questions if q.kind == "closed"]
        if closed:
            add("turn the yes/no question into an open one that starts with what, how or which, "
                f'e.g. "{example}"')
        else:
            add("ask one open question to find out what is really behind it, "
                f'e.g. "{example}"')
    elif not any(q.on_topic for q in opened):
        add(f'keep your question on the customer\'s concern, e.g. "{example}"')
    if ask_frame:
        return out
    if turn == "concern":
        order = {c.id: i for i, c in enumerate(concern_concepts(scenario))}
        missing = sorted(missing, key=lambda c: (order.get(c.id, 99), -c.weight))
    else:
        missing = sorted(missing, key=lambda c: -c.weight)
    for concept in missing[:2]:
        add(concept.try_text)
    if evidence_tip is not None:
        add(evidence_tip.try_text)
    elif not scenario.evidence:
        add("back your answer with evidence: a figure, a case study or a reference customer.")
    if step < STEP_POINTS["concrete"]:
        add("close with a concrete next step with an action and a time, e.g. "
            f'"{turn_next_step(scenario, turn, customer_words)}"')
    if your < 2:
        add('frame it around the customer and their business: "your customers", "your team", '
            '"your board".')
    if not long_term:
        add("add the long-term view: what this means over time and as the business grows, not "
            "just for the next project.")
    return [s for s in out if is_safe(s, scenario, customer_words)]


def hint_lines(scenario: Scenario, turn: str, customer_line: str = "") -> list[str]:
    """What to do in this turn of this scenario: a question to ask, a point to make (the concept
    that answers the objection, the revealed concern or the pushback), a close."""
    lines: list[str] = []
    if turn == "concern":
        concept = concern_concepts(scenario)[0] if scenario.concepts else None
        if concept is not None:
            lines.append(f"Answer the concern ({scenario.hidden_concern.summary.rstrip('.')}): "
                         f"{concept.try_text}")
        lines.append(f'Ask: "{turn_question(scenario, turn, customer_line)}"')
    elif turn == "pushback":
        lines.append(f'Ask: "{turn_question(scenario, turn, customer_line)}"')
        item = _for_line(scenario, customer_line)
        if item is not None:
            lines.append(f"Answer it: {item.try_text}")
    else:
        lines.append(f'Ask: "{turn_question(scenario, turn, customer_line)}"')
        heaviest = max(scenario.concepts, key=lambda c: c.weight, default=None)
        if heaviest is not None:
            lines.append(f"Explain: {heaviest.try_text}")
    lines.append(f'Close: "{turn_next_step(scenario, turn, customer_line)}"')
    return [line for line in lines if is_safe(line, scenario, customer_line)]
