"""What a run records per case and per turn, and the report that holds them (the JSON report's shape)."""

from __future__ import annotations

from typing import Any

import msgspec


class Check(msgspec.Struct, kw_only=True):
    """One expectation: ``passed`` None means it was not checked (e.g. a rubric with no judge)."""

    name: str
    passed: bool | None
    expected: str
    actual: str


class TurnRecord(msgspec.Struct, kw_only=True):
    """One customer message through the whole graph, with the decision record it left."""

    user: str
    reply: str | None
    escalated: bool
    decision: dict[str, Any]
    classification: dict[str, Any]
    citations: list[dict[str, Any]]
    passages: list[dict[str, Any]]
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    groundedness: float | None = None
    """Share of the reply's sentences supported by a cited passage (None: nothing to check)."""
    expected_escalated: bool | None = None
    checks: list[Check] = msgspec.field(default_factory=list)


class RetrievalRecord(msgspec.Struct, kw_only=True):
    query: str
    ranked: list[str]
    """Documents (or chunk ids, with gold chunks) in rank order, best first."""
    relevant: list[bool]
    gold_count: int
    k: int
    passages: list[dict[str, Any]]
    latency_ms: float


class ClassificationRecord(msgspec.Struct, kw_only=True):
    text: str
    expected: dict[str, str]
    predicted: dict[str, str]
    scores: dict[str, Any]
    latency_ms: float


class CaseResult(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    file: str
    line: int
    passed: bool
    checks: list[Check] = msgspec.field(default_factory=list)
    turns: list[TurnRecord] = msgspec.field(default_factory=list)
    retrieval: RetrievalRecord | None = None
    classification: ClassificationRecord | None = None
    error: str | None = None
    """The case could not run (the exception, in one line); it counts as failed."""


class GateResult(msgspec.Struct, kw_only=True):
    metric: str
    threshold: float
    value: float | None
    passed: bool
    direction: str
    """``min`` (fail below) or ``max`` (fail above: latency, tokens, cost)."""


class Report(msgspec.Struct, kw_only=True):
    run_id: str
    tenant: str
    suites: list[str]
    started_at: str
    finished_at: str
    incomplete: bool
    """True when the run was interrupted: only the cases in ``cases`` ran."""
    total_cases: int
    settings: dict[str, Any]
    git_commit: str | None
    metrics: dict[str, float]
    by_kind: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, dict[str, int]]]
    """Per task (intent, sentiment, escalated): expected label → predicted label → count."""
    gates: list[GateResult]
    cases: list[CaseResult]

    @property
    def failed_cases(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.passed]


def format_metric(metric: str, value: float | None) -> str:
    """A metric's value as people read it, in the CLI summary and the HTML report alike."""
    if value is None:
        return "not measured"
    if metric.endswith("_ms"):
        return f"{value:.0f} ms"
    if metric == "cost_usd":
        return f"${value:.4f}"
    if metric in {"tokens", "cases"}:
        return f"{value:.0f}"
    return f"{value:.3f}"


def encode_report(report: Report) -> bytes:
    return msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n"


def decode_report(data: bytes) -> Report:
    return msgspec.json.decode(data, type=Report)
