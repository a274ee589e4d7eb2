"""Broken content is reported with file, line, id and field, and the CLI exits cleanly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot.knowledge import load_knowledge
from tests.conftest import KNOWLEDGE, run_cli

GOOD_ENTRY = """\
  - id: {id}
    title: {title}
    aliases: [{alias}]
    summary: A thing for testing.
    details:
      - It exists.
    related: [{related}]
    domain: compute
    section: Compute services
    jobs: [test a thing, check that tests run]
"""


def make_kb(tmp_path: Path, compute_yaml: str, questions_yaml: str | None = None) -> Path:
    root = tmp_path / "knowledge"
    (root / "questions").mkdir(parents=True)
    shutil.copy(KNOWLEDGE / "sections.tsv", root / "sections.tsv")
    (root / "domains.yaml").write_text("domains:\n  - id: compute\n    title: Compute\n")
    (root / "compute.yaml").write_text(compute_yaml)
    if questions_yaml is not None:
        (root / "questions" / "compute.yaml").write_text(questions_yaml)
    return root


def entry(id: str, title: str, alias: str, related: str = "") -> str:
    return GOOD_ENTRY.format(id=id, title=title, alias=alias, related=related)


def test_valid_file_loads_without_errors(tmp_path: Path) -> None:
    root = make_kb(tmp_path, "entries:\n" + entry("one", "One", "uno", "two")
                   + entry("two", "Two", "dos", "one"))
    kb = load_knowledge(root)
    assert kb.errors == []
    assert set(kb.entries) == {"one", "two"}
    assert kb.entries["one"].aliases == ("uno",)


def test_missing_field_names_file_line_id_and_field(tmp_path: Path) -> None:
    text = "entries:\n" + entry("one", "One", "uno").replace("    summary: A thing for testing.\n", "")
    kb = load_knowledge(make_kb(tmp_path, text))
    [error] = kb.errors
    assert error.file.endswith("compute.yaml")
    assert error.line == 2
    assert error.item_id == "one"
    assert error.field == "summary"
    assert "required" in error.message


def test_duplicate_id_dangling_related_unknown_section_and_shared_alias(tmp_path: Path) -> None:
    text = ("entries:\n" + entry("one", "One", "shared", "ghost")
            + entry("one", "Uno", "x")
            + entry("three", "Three", "Shared").replace("Compute services", "Cooking"))
    kb = load_knowledge(make_kb(tmp_path, text))
    messages = {(e.item_id, e.field, e.line): e.message for e in kb.errors}
    assert ("one", "id", 12) in messages and "duplicate id" in messages[("one", "id", 12)]
    assert ("one", "related", 8) in messages and "ghost" in messages[("one", "related", 8)]
    assert any(f == "section" and "Cooking" in m for (_, f, _), m in messages.items())
    assert any(i == "three" and f == "aliases" and "'one'" in m
               for (i, f, _), m in messages.items())


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    text = "entries:\n  - id: one\n    title: [unclosed\n    aliases: []\n"
    kb = load_knowledge(make_kb(tmp_path, text))
    [error] = kb.errors
    assert error.file.endswith("compute.yaml")
    assert error.line >= 3
    assert "invalid YAML" in error.message


def test_unknown_field_is_reported(tmp_path: Path) -> None:
    text = "entries:\n" + entry("one", "One", "uno").replace("    aliases:", "    alias: x\n    aliases:")
    kb = load_knowledge(make_kb(tmp_path, text))
    assert [(e.field, e.line) for e in kb.errors] == [("alias", 4)]


QUESTION = """\
questions:
  - id: q1
    kind: {kind}
    section: Compute services
    difficulty: 1
    entry: {entry}
    prompt: {prompt}
    options:
{options}
    answer: {answer}
    explanation: Because.
"""


def question(kind: str = "single", entry_id: str = "one", prompt: str = "Which?",
             texts: tuple[str, ...] = ("A1", "B1", "C1", "D1"), answer: str = "[B]") -> str:
    options = "".join(f"      - text: {t}\n        why: reason\n" for t in texts)
    return QUESTION.format(kind=kind, entry=entry_id, prompt=prompt, options=options, answer=answer)


def test_questions_are_validated(tmp_path: Path) -> None:
    base = "entries:\n" + entry("one", "One", "uno")
    ok = load_knowledge(make_kb(tmp_path / "ok", base, question()))
    assert ok.errors == [] and ok.questions["q1"].correct_texts == ("B1",)

    cases = {
        "answer": question(answer="[E]"),
        "entry": question(entry_id="ghost"),
        "options": question(texts=("A1", "A1", "C1", "D1")),
        "prompt": question(kind="multiple", answer="[A, B]"),
    }
    for field, text in cases.items():
        kb = load_knowledge(make_kb(tmp_path / field, base, text))
        assert [e.field for e in kb.errors] == [field], (field, kb.errors)
        assert kb.errors[0].item_id == "q1"


def test_check_cli_exits_nonzero_without_traceback(tmp_path: Path) -> None:
    root = make_kb(tmp_path, "entries:\n" + entry("one", "One", "uno", "ghost"))
    result = run_cli("knowledge", "check", env={"AWS_QUIZ_KNOWLEDGE": str(root)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "compute.yaml:8: 'one' field 'related': unknown entry id 'ghost'" in result.stderr

    as_json = run_cli("knowledge", "check", "--json", env={"AWS_QUIZ_KNOWLEDGE": str(root)})
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 1
    assert report["entries"] == 1
    assert report["errors"][0]["field"] == "related"
    assert "Amazon EBS" in report["uncovered"]


def test_chat_refuses_broken_knowledge_cleanly(tmp_path: Path) -> None:
    root = make_kb(tmp_path, "entries:\n" + entry("one", "One", "uno", "ghost"))
    result = run_cli("ask", "one", env={"AWS_QUIZ_KNOWLEDGE": str(root)})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "unknown entry id 'ghost'" in result.stderr


def test_an_entry_without_jobs_is_named(tmp_path: Path) -> None:
    text = "entries:\n" + entry("one", "One", "uno").replace(
        "    jobs: [test a thing, check that tests run]\n", "")
    kb = load_knowledge(make_kb(tmp_path, text))
    assert [(e.item_id, e.field, e.message) for e in kb.errors] == [("one", "jobs", "is required")]
    assert kb.errors[0].line == 2
