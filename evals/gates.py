"""``--fail-under metric=value``: the gates CI enforces. Lower-is-better metrics fail above their value."""

from __future__ import annotations

from dataclasses import dataclass

from evals.results import GateResult
from evals.scoring import LOWER_IS_BETTER, METRICS


class GateSyntaxError(ValueError):
    """A gate that cannot be read, or names a metric no run reports."""


@dataclass(frozen=True)
class Gate:
    metric: str
    threshold: float

    @property
    def direction(self) -> str:
        return "max" if self.metric in LOWER_IS_BETTER else "min"


def parse_gate(text: str) -> Gate:
    metric, sep, value = text.partition("=")
    metric = metric.strip()
    if not sep or not metric:
        raise GateSyntaxError(f"{text!r}: write metric=value, e.g. pass_rate=0.9")
    if metric not in METRICS:
        raise GateSyntaxError(f"{metric!r} is not a metric; known: {', '.join(METRICS)}")
    try:
        threshold = float(value)
    except ValueError:
        raise GateSyntaxError(f"{text!r}: {value.strip()!r} is not a number") from None
    return Gate(metric, threshold)


def evaluate_gates(gates: list[Gate], metrics: dict[str, float]) -> list[GateResult]:
    """A gate on a metric the run did not measure fails: CI must not pass on an empty suite."""
    results = []
    for gate in gates:
        value = metrics.get(gate.metric)
        if value is None:
            passed = False
        elif gate.direction == "max":
            passed = value <= gate.threshold
        else:
            passed = value >= gate.threshold
        results.append(
            GateResult(
                metric=gate.metric,
                threshold=gate.threshold,
                value=value,
                passed=passed,
                direction=gate.direction,
            )
        )
    return results
