"""The metrics, checked by hand and against scikit-learn where it has the same one."""

from __future__ import annotations

import math

import pytest
from sklearn.metrics import f1_score

from evals import metrics as m


def test_ranking_metrics() -> None:
    ranked = [False, False, True, False, True]
    assert m.first_hit(ranked) == 3
    assert m.hit_at(ranked, 2) == 0.0
    assert m.hit_at(ranked, 3) == 1.0
    assert m.reciprocal_rank(ranked, 10) == pytest.approx(1 / 3)
    assert m.reciprocal_rank(ranked, 2) == 0.0
    ideal = 1 + 1 / math.log2(3)
    assert m.ndcg_at(ranked, 10, gold_count=2) == pytest.approx((1 / math.log2(4) + 1 / math.log2(6)) / ideal)
    assert m.ndcg_at([True], 10, gold_count=1) == 1.0


def test_label_metrics_match_scikit_learn() -> None:
    expected = ["a", "a", "b", "c", "c", "c"]
    predicted = ["a", "b", "b", "c", "a", "d"]
    assert m.accuracy(expected, predicted) == pytest.approx(3 / 6)
    assert m.macro_f1(expected, predicted) == pytest.approx(f1_score(expected, predicted, average="macro"))
    assert m.confusion(expected, predicted)["c"] == {"a": 1, "b": 0, "c": 1, "d": 1}


def test_escalation_precision_and_recall() -> None:
    expected = [True, True, False, False]
    assert m.precision_recall(expected, [True, False, True, False]) == (0.5, 0.5)
    assert m.precision_recall(expected, [False] * 4) == (1.0, 0.0)


def test_percentiles_interpolate_like_numpy() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert m.percentile(values, 50) == 25.0
    assert m.percentile(values, 95) == pytest.approx(38.5)
    assert m.percentile([], 95) == 0.0
