"""``atende eval run`` as CI runs it: reports, gates, exit codes (0 pass, 1 gate failed, 2 usage error), storing."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx

from tests.conftest import ATENDE, LiveServer
from tests.evals.runs import EvalRun, eval_env, run_eval
from tests.helpers import login


def test_a_malformed_suite_names_file_line_and_field_and_nothing_runs(tmp_path: Path) -> None:
    suite = tmp_path / "broken.jsonl"
    suite.write_text(
        '{"kind": "retrieval", "id": "ok", "query": "pix", "gold_documents": ["formas-de-pagamento.md"]}\n'
        '{"kind": "conversation", "id": "bad", "turns": [{"user": "oi", "expect": {"escalated": "yes"}}]}\n'
    )
    report = tmp_path / "report.json"
    result = run_eval(tmp_path / "data", "run", str(suite), "--tenant", "demo", "--json", str(report))
    assert result.returncode == 2
    assert f"{suite}:2: turns[0].expect.escalated: Expected `bool | null`, got `str`" in " ".join(
        result.stderr.split()
    )
    assert not report.exists()
    assert not (tmp_path / "data").exists(), "no database was started"


def test_a_bad_gate_is_a_usage_error(tmp_path: Path) -> None:
    result = run_eval(tmp_path, "run", "demo", "--tenant", "demo", "--fail-under", "hit@7=0.9")
    assert result.returncode == 2
    assert "'hit@7' is not a metric" in result.stderr


def test_an_unknown_tenant_is_a_usage_error(live_server: LiveServer) -> None:
    result = run_eval(live_server.data_dir, "run", "demo", "--tenant", "nobody")
    assert result.returncode == 2
    assert "tenant 'nobody' not found" in result.stderr


def test_the_demo_suite_passes_its_gates_and_writes_three_reports(demo_run: EvalRun) -> None:
    assert demo_run.result.returncode == 0, demo_run.result.stdout + demo_run.result.stderr
    report = json.loads(demo_run.json.read_text())
    assert report["incomplete"] is False and report["tenant"] == "demo"
    metrics = report["metrics"]
    for name in ("pass_rate", "hit@5", "mrr@10", "accuracy", "macro_f1", "escalation_precision"):
        assert name in metrics
    assert {"escalation_recall", "latency_p95_ms", "citation_accuracy", "groundedness"} <= set(metrics)
    assert all(gate["passed"] for gate in report["gates"]) and len(report["gates"]) == 5
    assert set(report["by_kind"]) == {"retrieval", "classification", "conversation"}
    assert report["settings"]["min_relevance"] == 0.55

    junit = ET.parse(demo_run.junit)  # noqa: S314 — our own report.getroot()
    suites = {suite.get("name"): suite for suite in junit.iter("testsuite")}
    assert set(suites) == {"retrieval", "classification", "conversation", "gates"}
    assert sum(int(s.get("tests", "0")) for n, s in suites.items() if n != "gates") == len(report["cases"])
    assert "<svg" in demo_run.html.read_text()
    assert "gate pass_rate >= 0.9" in demo_run.result.stdout


def test_a_threshold_that_escalates_everything_fails_the_gate(broken_run: EvalRun) -> None:
    assert broken_run.result.returncode == 1, broken_run.result.stdout + broken_run.result.stderr
    report = json.loads(broken_run.json.read_text())
    assert report["settings"]["min_relevance"] == 0.99
    failed = {gate["metric"] for gate in report["gates"] if not gate["passed"]}
    assert {"pass_rate", "escalation_precision", "citation_accuracy"} <= failed
    assert "gate escalation_precision >= 0.9" in broken_run.result.stdout
    answered = next(c for c in report["cases"] if c["id"] == "conv-parcelamento")
    assert answered["passed"] is False
    assert answered["turns"][0]["decision"]["rule"] == "no_relevant_passage"
    junit = ET.parse(broken_run.junit)  # noqa: S314 — our own report.getroot()
    assert junit.find(".//testcase[@name='conv-parcelamento']/failure") is not None


def test_ctrl_c_writes_the_partial_report_marked_incomplete(live_server: LiveServer, tmp_path: Path) -> None:
    suite = tmp_path / "long.jsonl"
    suite.write_text(
        "".join(
            f'{{"kind": "retrieval", "id": "q{i}", "query": "parcelamento no cartão {i}", '
            '"gold_documents": ["formas-de-pagamento.md"]}\n'
            for i in range(3000)
        )
    )
    report = tmp_path / "partial.json"
    junit = tmp_path / "partial.xml"
    process = subprocess.Popen(
        [ATENDE, "eval", "run", str(suite), "--tenant", "demo", "--json", str(report), "--junit", str(junit)],
        env=eval_env(live_server.data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "running 3000 case(s)" in line:
            break
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stdout + stderr
    written = json.loads(report.read_text())
    assert written["incomplete"] is True
    assert 0 < len(written["cases"]) < written["total_cases"] == 3000
    assert ET.parse(junit).getroot().get("incomplete") == "true"  # noqa: S314 — our own report
    assert "interrupted" in stderr

    # The run is kept for the web app, marked incomplete, with the cases that finished.
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        response = client.get(
            "/api/v1/evals", params={"limit": 500}, headers=login(client, live_server.admin)
        )
    stored = [run for run in response.json() if run["run_id"] == written["run_id"]]
    assert len(stored) == 1, response.text
    assert stored[0]["incomplete"] is True
    assert (stored[0]["cases_run"], stored[0]["total_cases"]) == (len(written["cases"]), 3000)
