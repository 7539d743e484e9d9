"""Eval suite files: JSONL (one case a line) or YAML (a list of cases), three kinds told apart by ``kind``.

Every case is checked before anything runs; a bad one raises :class:`SuiteError` naming the file,
the line and the field, and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import yaml

from core.errors import AtendeError, ErrorCode


class _Case(msgspec.Struct, forbid_unknown_fields=True, frozen=True, tag_field="kind", omit_defaults=True):
    id: str


class RetrievalCase(_Case, tag="retrieval", frozen=True):
    """A question and what a good search returns: gold documents (file names), chunk ids, or answer text."""

    query: str
    gold_documents: list[str] = msgspec.field(default_factory=list)
    gold_chunks: list[str] = msgspec.field(default_factory=list)
    gold_answer: str | None = None
    """Text a relevant passage contains (compared without case, accents or extra spaces)."""
    k: int = 5
    """The case passes when a gold item is in the top k."""
    tags: list[str] = msgspec.field(default_factory=list)


class ClassificationExpect(
    msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True
):
    sentiment: str | None = None
    intent: str | None = None
    """``out_of_scope`` expects the classifier to say the text is about nothing the business does."""
    escalated: bool | None = None
    """Checked with a whole graph turn (the escalation policy needs the retrieval too)."""
    language: str | None = None


class ClassificationCase(_Case, tag="classification", frozen=True):
    text: str
    expect: ClassificationExpect
    tags: list[str] = msgspec.field(default_factory=list)


class TurnExpect(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True):
    escalated: bool | None = None
    cites: str | None = None
    """A document (file name) the reply must cite."""
    contains: str | list[str] | None = None
    """Text the reply must contain (without case or accents); a list: all of them."""
    not_contains: str | list[str] | None = None
    intent: str | None = None
    sentiment: str | None = None
    language: str | None = None
    rule: str | None = None
    """The decision rule that must fire (e.g. ``customer_asked_for_human``, ``grounded_answer``)."""
    rubric: str | None = None
    """Free-form criteria for an LLM judge; skipped when no judge is configured."""


class Turn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True):
    user: str
    expect: TurnExpect = msgspec.field(default_factory=TurnExpect)


class ConversationCase(_Case, tag="conversation", frozen=True):
    turns: list[Turn]
    rubric: str | None = None
    """Criteria for the whole conversation, for an LLM judge when one is configured."""
    tags: list[str] = msgspec.field(default_factory=list)


Case = RetrievalCase | ClassificationCase | ConversationCase
KINDS = ("retrieval", "classification", "conversation")


@dataclass(frozen=True)
class LoadedCase:
    case: Case
    file: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def kind(self) -> str:
        return kind_of(self.case)


def kind_of(case: Case) -> str:
    return str(type(case).__struct_config__.tag)


class SuiteError(AtendeError):
    """A suite that cannot run: the file, line and field at fault, and why."""

    code = ErrorCode.INVALID_INPUT

    def __init__(self, file: Path | str, line: int | None, field: str | None, reason: str) -> None:
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}", field=field)
        self.file = str(file)
        self.line = line
        self.reason = reason


_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_PATH_PART = re.compile(r"\.([A-Za-z_][\w@]*)|\[(\d+)\]")


def _error_path(error: msgspec.ValidationError) -> tuple[list[str | int], str]:
    """msgspec's "Expected `str`, got `int` - at `$.turns[0].user`" as a path and a reason."""
    message = str(error)
    reason, _, at = message.partition(" - at `")
    path: list[str | int] = [
        name if name else int(index) for name, index in _PATH_PART.findall(at.rstrip("`").removeprefix("$"))
    ]
    if unknown := _UNKNOWN_FIELD.search(reason):
        return [*path, unknown.group(1)], "unknown field (a typo?)"
    if missing := _MISSING_FIELD.search(reason):
        return [*path, missing.group(1)], "is required"
    if path == ["kind"] and reason.startswith("Invalid value"):
        return path, f"{reason.removeprefix('Invalid value ')} is not one of {', '.join(KINDS)}"
    return path, reason


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _semantic_errors(case: Case) -> Iterable[tuple[list[str | int], str]]:
    """What the types alone cannot say."""
    if not case.id.strip():
        yield ["id"], "must not be empty"
    if isinstance(case, RetrievalCase):
        if not case.query.strip():
            yield ["query"], "must not be empty"
        if not (case.gold_documents or case.gold_chunks or case.gold_answer):
            yield ["gold_documents"], "give gold_documents, gold_chunks or gold_answer"
        if not 1 <= case.k <= 50:
            yield ["k"], "must be between 1 and 50"
    elif isinstance(case, ClassificationCase):
        if not case.text.strip():
            yield ["text"], "must not be empty"
        expect = case.expect
        if all(v is None for v in (expect.sentiment, expect.intent, expect.escalated, expect.language)):
            yield ["expect"], "expect at least one of sentiment, intent, escalated, language"
    else:
        if not case.turns:
            yield ["turns"], "must have at least one turn"
        for index, turn in enumerate(case.turns):
            if not turn.user.strip():
                yield ["turns", index, "user"], "must not be empty"


def _node_line(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """The line (1-based) of the YAML node at ``path``, or of the deepest ancestor that exists."""
    if node is None:
        return None
    line = int(node.start_mark.line) + 1
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, line = child, int(child.start_mark.line) + 1
    return line


def _convert(raw: Any, file: Path, line: int, node: yaml.Node | None = None) -> Case:
    if not isinstance(raw, dict):
        raise SuiteError(file, line, None, "a case must be an object with a kind field")
    try:
        case: Case = msgspec.convert(raw, Case)
    except msgspec.ValidationError as exc:
        path, reason = _error_path(exc)
        raise SuiteError(file, _node_line(node, path) or line, _dotted(path) or None, reason) from exc
    for path, reason in _semantic_errors(case):
        raise SuiteError(file, _node_line(node, path) or line, _dotted(path), reason)
    return case


def _read_jsonl(file: Path, text: str) -> list[LoadedCase]:
    cases = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            raw = msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            raise SuiteError(file, number, None, f"not valid JSON ({exc})") from exc
        cases.append(LoadedCase(_convert(raw, file, number), file, number))
    return cases


def _read_yaml(file: Path, text: str) -> list[LoadedCase]:
    """A list of cases, or one case per YAML document (``---``)."""
    try:
        documents = [d for d in yaml.compose_all(text, Loader=yaml.SafeLoader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SuiteError(file, mark.line + 1 if mark else None, None, f"not valid YAML ({exc})") from exc
    nodes: list[yaml.Node] = []
    for document in documents:
        nodes.extend(document.value if isinstance(document, yaml.SequenceNode) else [document])
    cases = []
    for node in nodes:
        line = node.start_mark.line + 1
        raw = yaml.SafeLoader(text).construct_document(node)
        cases.append(LoadedCase(_convert(raw, file, line, node), file, line))
    return cases


PACKAGED_SUITES = Path(__file__).parent / "suites"


def resolve_suite(name: Path) -> Path:
    """A suite file, or the name of one that ships with Atende (``demo`` is ``evals/suites/demo.jsonl``)."""
    packaged = PACKAGED_SUITES / f"{name}.jsonl"
    if not name.exists() and not name.suffix and len(name.parts) == 1 and packaged.is_file():
        return packaged
    return name


def load_suite(file: Path) -> list[LoadedCase]:
    if not file.is_file():
        raise SuiteError(file, None, None, "no such suite file")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SuiteError(file, None, None, "not UTF-8 text") from exc
    if file.suffix.lower() in {".yaml", ".yml"}:
        return _read_yaml(file, text)
    return _read_jsonl(file, text)


def load_suites(files: Sequence[Path]) -> list[LoadedCase]:
    """Every case of every file, checked; ids must be unique across the files."""
    cases: list[LoadedCase] = []
    seen: dict[str, LoadedCase] = {}
    for file in files:
        for loaded in load_suite(file):
            if loaded.case.id in seen:
                first = seen[loaded.case.id]
                raise SuiteError(
                    file, loaded.line, "id", f"{loaded.case.id!r} is already used at {first.where}"
                )
            seen[loaded.case.id] = loaded
            cases.append(loaded)
    if not cases:
        raise SuiteError(", ".join(str(f) for f in files), None, None, "the suite has no cases")
    return cases


def dump_jsonl(cases: Iterable[Case]) -> bytes:
    """Cases as a JSONL suite (what the importers write)."""
    return b"".join(msgspec.json.encode(case) + b"\n" for case in cases)
