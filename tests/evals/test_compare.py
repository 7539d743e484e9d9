"""``atende eval compare``: what changed between two runs, and exit 1 on a regression beyond the tolerance."""

from __future__ import annotations

from pathlib import Path

from evals.compare import compare_reports
from evals.results import CaseResult, Report
from tests.evals.runs import EvalRun, run_eval


def report(metrics: dict[str, float], passed: dict[str, bool], **settings: object) -> Report:
    return Report(
        run_id="r",
        tenant="demo",
        suites=["demo.jsonl"],
        started_at="",
        finished_at="",
        incomplete=False,
        total_cases=len(passed),
        settings=dict(settings),
        git_commit=None,
        metrics=metrics,
        by_kind={},
        confusion={},
        gates=[],
        cases=[CaseResult(id=i, kind="conversation", file="s", line=1, passed=p) for i, p in passed.items()],
    )


def test_a_drop_within_the_tolerance_is_not_a_regression() -> None:
    before = report(
        {"pass_rate": 0.9, "hit@5": 0.95, "latency_p95_ms": 100.0}, {"a": True, "b": False, "c": True}
    )
    after = report(
        {"pass_rate": 0.895, "hit@5": 0.9, "latency_p95_ms": 300.0}, {"a": False, "b": True, "d": True}
    )
    comparison = compare_reports(before, after, tolerance=0.01)
    assert [m.metric for m in comparison.regressions] == ["hit@5"]
    assert {(c.id, c.change) for c in comparison.cases} == {
        ("a", "newly failing"),
        ("b", "fixed"),
        ("d", "added"),
        ("c", "removed"),
    }
    slower = compare_reports(before, after, tolerance=0.1, latency_tolerance=0.5)
    assert [m.metric for m in slower.regressions] == ["latency_p95_ms"]


def test_compare_exits_1_on_a_regression_and_names_the_cases(demo_run: EvalRun, broken_run: EvalRun) -> None:
    worse = run_eval(Path("."), "compare", str(demo_run.json), str(broken_run.json))
    assert worse.returncode == 1, worse.stdout + worse.stderr
    out = " ".join(worse.stdout.split())
    assert "newly failing conv-parcelamento: escalated: expected False, got True" in out
    assert "setting min_relevance: 0.55 → 0.99" in out
    assert "regression beyond the tolerance: pass_rate" in out

    better = run_eval(Path("."), "compare", str(broken_run.json), str(demo_run.json))
    assert better.returncode == 0, better.stdout
    assert "✓ fixed conv-parcelamento" in better.stdout
    same = run_eval(Path("."), "compare", str(demo_run.json), str(demo_run.json))
    assert same.returncode == 0 and "no regression" in same.stdout


def test_compare_refuses_a_file_that_is_not_a_report(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"metrics": 3}')
    result = run_eval(tmp_path, "compare", str(junk), str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert "junk.json: not a report" in result.stderr
