"""The numbers a report gives: ranking quality, label agreement, hand-off precision and recall, latency.

Pure functions over plain values, so they can be checked by hand.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


def first_hit(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    return next((rank for rank, hit in enumerate(relevant, start=1) if hit), None)


def hit_at(relevant: Sequence[bool], k: int) -> float:
    return 1.0 if any(relevant[:k]) else 0.0


def reciprocal_rank(relevant: Sequence[bool], k: int) -> float:
    rank = first_hit(relevant[:k])
    return 1.0 / rank if rank else 0.0


def ndcg_at(relevant: Sequence[bool], k: int, gold_count: int) -> float:
    """Binary-relevance nDCG@k; the ideal ranking puts min(gold_count, k) relevant items first."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, hit in enumerate(relevant[:k], start=1) if hit)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(max(gold_count, 1), k) + 1))
    return dcg / ideal


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def confusion(expected: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """expected label → predicted label → count, over every label seen on either side."""
    labels = sorted(set(expected) | set(predicted))
    counts = Counter(zip(expected, predicted, strict=True))
    return {gold: {said: counts[gold, said] for said in labels} for gold in labels}


def accuracy(expected: Sequence[str], predicted: Sequence[str]) -> float:
    return mean([1.0 if e == p else 0.0 for e, p in zip(expected, predicted, strict=True)])


def macro_f1(expected: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the expected labels (as scikit-learn's ``f1_score(average="macro")`` does over
    the labels of both sides: a label only ever predicted adds an F1 of 0)."""
    labels = sorted(set(expected) | set(predicted))
    scores = []
    for label in labels:
        tp = sum(e == label and p == label for e, p in zip(expected, predicted, strict=True))
        said = sum(p == label for p in predicted)
        actual = sum(e == label for e in expected)
        precision = tp / said if said else 0.0
        recall = tp / actual if actual else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return mean(scores)


def precision_recall(expected: Sequence[bool], predicted: Sequence[bool]) -> tuple[float, float]:
    """Of the predicted positives, how many were right; of the actual positives, how many were found.
    With nothing predicted (or nothing to find) the score is 1.0: no false alarm, nothing missed."""
    tp = sum(e and p for e, p in zip(expected, predicted, strict=True))
    said = sum(predicted)
    actual = sum(expected)
    return (tp / said if said else 1.0), (tp / actual if actual else 1.0)
