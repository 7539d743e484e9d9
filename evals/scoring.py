"""From case results to the report's metrics: overall, per kind, and the confusion matrices.

Metric names are plain (``hit@5``, ``macro_f1``…) so a gate can name them: ``--fail-under hit@5=0.9``.
"""

from __future__ import annotations

from collections.abc import Sequence

from evals import metrics as m
from evals.results import CaseResult, TurnRecord

RANKING_DEPTH = 10
LABEL_TASKS = ("intent", "sentiment", "language")
OUT_OF_SCOPE = "out_of_scope"

LOWER_IS_BETTER = frozenset({"latency_p50_ms", "latency_p95_ms", "tokens", "cost_usd"})
METRICS: dict[str, str] = {
    "pass_rate": "cases whose every expectation held",
    "hit@1": "retrieval: a gold item ranked first",
    "hit@3": "retrieval: a gold item in the top 3",
    "hit@5": "retrieval: a gold item in the top 5",
    "hit@10": "retrieval: a gold item in the top 10",
    "mrr@10": "retrieval: mean reciprocal rank of the first gold item (top 10)",
    "ndcg@10": "retrieval: normalised discounted cumulative gain (top 10)",
    "accuracy": "classification: expected labels predicted (intent, sentiment, language together)",
    "macro_f1": "classification: mean of each task's macro-F1",
    "intent_accuracy": "classification: intents predicted",
    "intent_macro_f1": "classification: macro-F1 over intents",
    "in_scope_accuracy": "classification: intents predicted among texts that are in scope",
    "out_of_scope_recall": "classification: out-of-scope texts called out of scope",
    "sentiment_accuracy": "classification: sentiments predicted",
    "sentiment_macro_f1": "classification: macro-F1 over sentiments",
    "language_accuracy": "classification: languages detected",
    "escalation_precision": "turns handed to a human that should have been",
    "escalation_recall": "turns that should have been handed to a human and were",
    "citation_accuracy": "turns expected to cite a document that cited it",
    "groundedness": "answer sentences supported by a cited passage",
    "latency_p50_ms": "graph time per turn, median",
    "latency_p95_ms": "graph time per turn, 95th percentile",
    "tokens": "LLM tokens, input and output",
    "cost_usd": "LLM cost",
}


def _round(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 6 if k == "cost_usd" else 4) for k, v in values.items()}


def retrieval_metrics(cases: Sequence[CaseResult]) -> dict[str, float]:
    records = [c.retrieval for c in cases if c.retrieval is not None]
    if not records:
        return {}
    values: dict[str, float] = {}
    for k in (1, 3, 5, 10):
        values[f"hit@{k}"] = m.mean([m.hit_at(r.relevant, k) for r in records])
    values["mrr@10"] = m.mean([m.reciprocal_rank(r.relevant, RANKING_DEPTH) for r in records])
    values["ndcg@10"] = m.mean([m.ndcg_at(r.relevant, RANKING_DEPTH, r.gold_count) for r in records])
    values["latency_p50_ms"] = m.percentile([r.latency_ms for r in records], 50)
    values["latency_p95_ms"] = m.percentile([r.latency_ms for r in records], 95)
    return values


def label_pairs(cases: Sequence[CaseResult], task: str) -> tuple[list[str], list[str]]:
    expected, predicted = [], []
    for case in cases:
        record = case.classification
        if record is not None and task in record.expected:
            expected.append(record.expected[task])
            predicted.append(record.predicted.get(task, ""))
    return expected, predicted


def classification_metrics(cases: Sequence[CaseResult]) -> dict[str, float]:
    values: dict[str, float] = {}
    all_expected: list[str] = []
    all_predicted: list[str] = []
    f1s = []
    for task in LABEL_TASKS:
        expected, predicted = label_pairs(cases, task)
        if not expected:
            continue
        all_expected += expected
        all_predicted += predicted
        values[f"{task}_accuracy"] = m.accuracy(expected, predicted)
        if task != "language":
            values[f"{task}_macro_f1"] = m.macro_f1(expected, predicted)
            f1s.append(values[f"{task}_macro_f1"])
        if task == "intent":
            in_scope = [(e, p) for e, p in zip(expected, predicted, strict=True) if e != OUT_OF_SCOPE]
            oos = [p for e, p in zip(expected, predicted, strict=True) if e == OUT_OF_SCOPE]
            if in_scope and oos:
                values["in_scope_accuracy"] = m.accuracy(*zip(*in_scope, strict=True))
            if oos:
                values["out_of_scope_recall"] = m.mean([1.0 if p == OUT_OF_SCOPE else 0.0 for p in oos])
    if all_expected:
        values["accuracy"] = m.accuracy(all_expected, all_predicted)
        if f1s:
            values["macro_f1"] = m.mean(f1s)
    return values


def _turns(cases: Sequence[CaseResult]) -> list[TurnRecord]:
    return [turn for case in cases for turn in case.turns]


def turn_metrics(cases: Sequence[CaseResult]) -> dict[str, float]:
    """Escalation, citations, groundedness, latency and cost over every whole-graph turn."""
    turns = _turns(cases)
    if not turns:
        return {}
    values: dict[str, float] = {}
    judged = [t for t in turns if t.expected_escalated is not None]
    if judged:
        precision, recall = m.precision_recall(
            [bool(t.expected_escalated) for t in judged], [t.escalated for t in judged]
        )
        values["escalation_precision"] = precision
        values["escalation_recall"] = recall
    cites = [c for t in turns for c in t.checks if c.name == "cites"]
    if cites:
        values["citation_accuracy"] = m.mean([1.0 if c.passed else 0.0 for c in cites])
    grounded = [t.groundedness for t in turns if t.groundedness is not None]
    if grounded:
        values["groundedness"] = m.mean(grounded)
    values["latency_p50_ms"] = m.percentile([t.latency_ms for t in turns], 50)
    values["latency_p95_ms"] = m.percentile([t.latency_ms for t in turns], 95)
    values["tokens"] = float(sum(t.input_tokens + t.output_tokens for t in turns))
    values["cost_usd"] = sum(t.cost_usd for t in turns)
    return values


def pass_rate(cases: Sequence[CaseResult]) -> float:
    return m.mean([1.0 if c.passed else 0.0 for c in cases])


def by_kind(cases: Sequence[CaseResult]) -> dict[str, dict[str, float]]:
    kinds: dict[str, dict[str, float]] = {}
    for kind in ("retrieval", "classification", "conversation"):
        of_kind = [c for c in cases if c.kind == kind]
        if not of_kind:
            continue
        values = {"pass_rate": pass_rate(of_kind), "cases": float(len(of_kind))}
        if kind == "retrieval":
            values |= retrieval_metrics(of_kind)
        elif kind == "classification":
            values |= classification_metrics(of_kind) | turn_metrics(of_kind)
        else:
            values |= turn_metrics(of_kind)
        kinds[kind] = _round(values)
    return kinds


def overall(cases: Sequence[CaseResult]) -> dict[str, float]:
    """Every metric under its plain name; latency is per graph turn when there are turns, else per search."""
    values = {"pass_rate": pass_rate(cases), "cases": float(len(cases))}
    values |= retrieval_metrics(cases)
    values |= classification_metrics(cases)
    values |= turn_metrics(cases)
    return _round(values)


def confusion_matrices(cases: Sequence[CaseResult]) -> dict[str, dict[str, dict[str, int]]]:
    matrices = {}
    for task in ("intent", "sentiment"):
        expected, predicted = label_pairs(cases, task)
        if expected:
            matrices[task] = m.confusion(expected, predicted)
    judged = [t for t in _turns(cases) if t.expected_escalated is not None]
    if judged:
        matrices["escalated"] = m.confusion(
            ["escalate" if t.expected_escalated else "answer" for t in judged],
            ["escalate" if t.escalated else "answer" for t in judged],
        )
    return matrices
