"""Two runs side by side: what changed in the metrics and case by case, and whether it is a regression.

A share metric (pass rate, hit@k, F1…) that drops by more than ``tolerance`` (absolute) is a
regression; latency, tokens and cost count only when ``latency_tolerance`` (relative) is given, as
they vary with the machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evals.results import CaseResult, Report
from evals.scoring import LOWER_IS_BETTER

NOT_COMPARED = frozenset({"cases"})


@dataclass(frozen=True)
class MetricChange:
    metric: str
    before: float | None
    after: float | None
    regression: bool

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True)
class CaseChange:
    id: str
    change: str
    """``newly failing``, ``fixed``, ``added`` or ``removed``."""
    detail: str = ""


@dataclass
class Comparison:
    metrics: list[MetricChange]
    cases: list[CaseChange]
    settings: dict[str, tuple[object, object]] = field(default_factory=dict)
    """Settings that differ between the runs: name → (before, after)."""
    notes: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[MetricChange]:
        return [m for m in self.metrics if m.regression]


def _why(case: CaseResult) -> str:
    if case.error:
        return case.error
    failed = [c for t in case.turns for c in t.checks if c.passed is False]
    failed += [c for c in case.checks if c.passed is False]
    return "; ".join(f"{c.name}: expected {c.expected}, got {c.actual}" for c in failed[:3])


def _regressed(
    metric: str, before: float, after: float, tolerance: float, latency_tolerance: float | None
) -> bool:
    if metric in LOWER_IS_BETTER:
        if latency_tolerance is None:
            return False
        return after > before * (1 + latency_tolerance) and after - before > 1e-9
    return before - after > tolerance + 1e-9


def compare_reports(
    before: Report, after: Report, *, tolerance: float = 0.01, latency_tolerance: float | None = None
) -> Comparison:
    metrics = []
    for metric in dict.fromkeys([*before.metrics, *after.metrics]):
        if metric in NOT_COMPARED:
            continue
        old, new = before.metrics.get(metric), after.metrics.get(metric)
        lost = old is not None and new is None and metric not in LOWER_IS_BETTER
        regression = lost or (
            old is not None and new is not None and _regressed(metric, old, new, tolerance, latency_tolerance)
        )
        metrics.append(MetricChange(metric, old, new, regression))
    old_cases = {c.id: c for c in before.cases}
    new_cases = {c.id: c for c in after.cases}
    cases = []
    for case_id, now in new_cases.items():
        then = old_cases.get(case_id)
        if then is None:
            cases.append(CaseChange(case_id, "added", "" if now.passed else _why(now)))
        elif then.passed and not now.passed:
            cases.append(CaseChange(case_id, "newly failing", _why(now)))
        elif not then.passed and now.passed:
            cases.append(CaseChange(case_id, "fixed"))
    cases += [CaseChange(case_id, "removed") for case_id in old_cases if case_id not in new_cases]
    settings = {
        name: (before.settings.get(name), after.settings.get(name))
        for name in dict.fromkeys([*before.settings, *after.settings])
        if before.settings.get(name) != after.settings.get(name)
    }
    notes = []
    if before.tenant != after.tenant:
        notes.append(f"different tenants: {before.tenant} → {after.tenant}")
    if before.suites != after.suites:
        notes.append(f"different suites: {', '.join(before.suites)} → {', '.join(after.suites)}")
    for name, report in (("first", before), ("second", after)):
        if report.incomplete:
            notes.append(f"the {name} run is incomplete ({len(report.cases)} of {report.total_cases} cases)")
    return Comparison(metrics, cases, settings, notes)
