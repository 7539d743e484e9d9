"""Eval runs of the demo suite against ``atende demo`` (the live server's data dir), shared by the evals
tests and the report's browser test; ``tests/conftest.py`` makes the fixtures visible to both."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ATENDE, LiveServer

DEMO_GATES = (
    "--fail-under",
    "pass_rate=0.9",
    "--fail-under",
    "hit@5=0.9",
    "--fail-under",
    "escalation_precision=0.9",
    "--fail-under",
    "escalation_recall=0.9",
    "--fail-under",
    "citation_accuracy=0.9",
)
"""The gates the README gives for CI."""


def eval_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "ATENDE_DATA_DIR": str(data_dir), **extra}
    env.pop("ATENDE_DATABASE_URL", None)
    return env


def run_eval(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``atende eval <args>`` as CI would run it, with extra environment variables."""
    return subprocess.run(
        [ATENDE, "eval", *args],
        env=eval_env(data_dir, **(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class EvalRun:
    result: subprocess.CompletedProcess[str]
    json: Path
    html: Path
    junit: Path


def _demo_run(server: LiveServer, out: Path, **env: str) -> EvalRun:
    json, html, junit = out / "report.json", out / "report.html", out / "junit.xml"
    reports = ("--json", str(json), "--html", str(html), "--junit", str(junit))
    result = run_eval(server.data_dir, "run", "demo", "--tenant", "demo", *reports, *DEMO_GATES, env=env)
    return EvalRun(result=result, json=json, html=html, junit=junit)


@pytest.fixture(scope="session")
def demo_run(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> EvalRun:
    """The shipped demo suite on the demo tenant, with the README's CI gates."""
    return _demo_run(live_server, tmp_path_factory.mktemp("eval-demo"))


@pytest.fixture(scope="session")
def broken_run(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory, demo_run: EvalRun
) -> EvalRun:
    """The same, with a retrieval threshold no passage reaches: every question is handed off.

    Made right after ``demo_run``, which the tests compare it with: other tests add documents to
    the demo tenant, and both runs must search the same knowledge base."""
    return _demo_run(live_server, tmp_path_factory.mktemp("eval-broken"), ATENDE_MIN_RELEVANCE="0.99")
