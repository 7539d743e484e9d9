"""The run's report: metrics, gates, every case; written as JSON, HTML and JUnit."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals import scoring
from evals.gates import Gate, evaluate_gates
from evals.results import CaseResult, Report, encode_report


def _commit(git: str, where: Path | None) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603 — a fixed command, no user input
            [git, "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def git_commit() -> str | None:
    """The commit of the checkout the run was made from (where CI runs it), else of Atende's own source."""
    git = shutil.which("git")
    if git is None:
        return None
    return _commit(git, None) or _commit(git, Path(__file__).parent)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def build_report(
    *,
    run_id: str,
    tenant: str,
    suites: Sequence[Path],
    started_at: str,
    total_cases: int,
    results: list[CaseResult],
    incomplete: bool,
    settings: dict[str, Any],
    gates: list[Gate],
) -> Report:
    metrics = scoring.overall(results)
    return Report(
        run_id=run_id,
        tenant=tenant,
        suites=[str(s) for s in suites],
        started_at=started_at,
        finished_at=now(),
        incomplete=incomplete,
        total_cases=total_cases,
        settings=settings,
        git_commit=git_commit(),
        metrics=metrics,
        by_kind=scoring.by_kind(results),
        confusion=scoring.confusion_matrices(results),
        gates=evaluate_gates(gates, metrics),
        cases=results,
    )


def write_json(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_report(report))
