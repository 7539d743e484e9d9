"""Suite files: JSONL and YAML are read the same way; a bad case names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.suite import (
    ClassificationCase,
    ConversationCase,
    RetrievalCase,
    SuiteError,
    dump_jsonl,
    load_suites,
    resolve_suite,
)

GOOD_JSONL = """\
{"kind": "retrieval", "id": "r1", "query": "segunda via do boleto", "gold_documents": ["segunda-via-boleto.md"]}

{"kind": "classification", "id": "c1", "text": "atendente!", "expect": {"intent": "human_agent", "escalated": true}}
{"kind": "conversation", "id": "v1", "turns": [{"user": "oi"}, {"user": "wifi slow", "expect": {"cites": "w.md"}}]}
"""

GOOD_YAML = """\
- kind: retrieval
  id: r1
  query: segunda via do boleto
  gold_documents: [segunda-via-boleto.md]
- kind: conversation
  id: v1
  rubric: polite and short
  turns:
    - user: oi
    - user: my wifi is slow
      expect:
        cites: wifi-troubleshooting.md
        contains: router
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_jsonl_and_yaml_suites_are_read_with_their_lines(tmp_path: Path) -> None:
    jsonl = load_suites([write(tmp_path, "a.jsonl", GOOD_JSONL)])
    assert [(c.kind, c.case.id, c.line) for c in jsonl] == [
        ("retrieval", "r1", 1),
        ("classification", "c1", 3),
        ("conversation", "v1", 4),
    ]
    assert isinstance(jsonl[1].case, ClassificationCase) and jsonl[1].case.expect.escalated is True
    yaml_cases = load_suites([write(tmp_path, "b.yaml", GOOD_YAML)])
    assert [(c.kind, c.case.id, c.line) for c in yaml_cases] == [
        ("retrieval", "r1", 1),
        ("conversation", "v1", 5),
    ]
    conversation = yaml_cases[1].case
    assert isinstance(conversation, ConversationCase)
    assert conversation.turns[1].expect.cites == "wifi-troubleshooting.md"
    assert conversation.rubric == "polite and short"


@pytest.mark.parametrize(
    ("line", "where", "message"),
    [
        (
            '{"kind": "retrieval", "id": "r", "query": "q"}',
            "a.jsonl:2: gold_documents",
            "give gold_documents",
        ),
        (
            '{"kind": "retrieval", "id": "r", "query": 3, "gold_documents": ["x"]}',
            "a.jsonl:2: query",
            "Expected `str`",
        ),
        ('{"kind": "faq", "id": "r"}', "a.jsonl:2: kind", "'faq' is not one of retrieval"),
        ('{"id": "r", "query": "q"}', "a.jsonl:2: kind", "is required"),
        ('{"kind": "classification", "id": "c", "text": "oi"}', "a.jsonl:2: expect", "is required"),
        (
            '{"kind": "classification", "id": "c", "text": "oi", "expect": {}}',
            "a.jsonl:2: expect",
            "at least one",
        ),
        (
            '{"kind": "conversation", "id": "v", "turns": [{"user": "a"}, {"user": "b", "expect": {"escalted": 1}}]}',
            "a.jsonl:2: turns[1].expect.escalted",
            "unknown field",
        ),
        ('{"kind": "conversation", "id": "v", "turns": []}', "a.jsonl:2: turns", "at least one turn"),
        (
            '{"kind": "retrieval", "id": "r1", "query": "q", "gold_answer": "x"}',
            "a.jsonl:2: id",
            "already used at",
        ),
        ('{"kind": "retrieval", "id": "r", ', "a.jsonl:2", "not valid JSON"),
    ],
)
def test_a_bad_jsonl_case_names_file_line_and_field(
    tmp_path: Path, line: str, where: str, message: str
) -> None:
    first = '{"kind": "retrieval", "id": "r1", "query": "q", "gold_answer": "x"}'
    path = write(tmp_path, "a.jsonl", f"{first}\n{line}\n")
    with pytest.raises(SuiteError) as raised:
        load_suites([path])
    assert f"{tmp_path}/{where}" in raised.value.detail
    assert message in raised.value.detail


def test_a_bad_yaml_case_points_at_the_line_of_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path, "b.yaml", GOOD_YAML.replace("contains: router", "contains: router\n        cites_all: x")
    )
    with pytest.raises(SuiteError) as raised:
        load_suites([path])
    assert raised.value.detail.startswith(f"{path}:14: turns[1].expect.cites_all: unknown field")
    wrong_type = write(tmp_path, "d.yaml", GOOD_YAML.replace("contains: router", "contains: 12"))
    with pytest.raises(SuiteError, match=r"d\.yaml:13: turns\[1\]\.expect\.contains: Expected `str \| array"):
        load_suites([wrong_type])
    broken = write(tmp_path, "c.yaml", "- kind: retrieval\n  id: [unclosed\n")
    with pytest.raises(SuiteError, match=r"c\.yaml:\d: not valid YAML"):
        load_suites([broken])


def test_ids_are_unique_across_files_and_an_empty_suite_is_refused(tmp_path: Path) -> None:
    one = write(tmp_path, "one.jsonl", GOOD_JSONL)
    two = write(tmp_path, "two.yaml", GOOD_YAML)
    with pytest.raises(SuiteError, match=r"two\.yaml:1: id: 'r1' is already used at .*one\.jsonl:1"):
        load_suites([one, two])
    with pytest.raises(SuiteError, match="no cases"):
        load_suites([write(tmp_path, "empty.jsonl", "\n\n")])
    with pytest.raises(SuiteError, match="no such suite file"):
        load_suites([tmp_path / "missing.jsonl"])


def test_written_suites_read_back_the_same(tmp_path: Path) -> None:
    cases = [
        RetrievalCase(id="r", query="q", gold_documents=["a.md"]),
        RetrievalCase(id="s", query="q", gold_answer="answer", k=3),
    ]
    path = tmp_path / "out.jsonl"
    path.write_bytes(dump_jsonl(cases))
    assert [loaded.case for loaded in load_suites([path])] == cases


def test_the_demo_suite_ships_with_the_package_and_is_valid() -> None:
    demo = resolve_suite(Path("demo"))
    assert demo.is_file()
    cases = load_suites([demo])
    assert {c.kind for c in cases} == {"retrieval", "classification", "conversation"}
    languages = {
        t.expect.language for c in cases if isinstance(c.case, ConversationCase) for t in c.case.turns
    }
    assert {"pt", "en"} <= languages
