"""Over HTTP on a running ``atende demo``: eval runs stored by ``atende eval run``, listed and read back.

The runs are made by the real CLI on a tenant of their own (an admin and an agent, no documents), so the
list holds exactly them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.evals.runs import run_eval
from tests.helpers import AdminTenant, login, make_admin_tenant

SUITE: list[dict[str, Any]] = [
    {
        "kind": "classification",
        "id": "asks-for-human",
        "text": "quero falar com um atendente",
        "expect": {"intent": "human_agent"},
    },
    {
        "kind": "classification",
        "id": "human-is-not-billing",
        "text": "quero falar com um atendente",
        "expect": {"intent": "billing"},
    },
    {
        "kind": "retrieval",
        "id": "pix-discount",
        "query": "Tem desconto no Pix?",
        "gold_answer": "5% de desconto",
    },
]
"""One case passes; two fail: a wrong intent, and a passage the tenant (with no documents) cannot have."""


@dataclass(frozen=True)
class StoredRuns:
    tenant: AdminTenant
    held: dict[str, Any]
    """The older run's JSON report: its gate (pass_rate >= 0.3) held."""
    failed: dict[str, Any]
    """The newer run's JSON report: its gate (pass_rate >= 0.9) failed."""


def run_suite_twice(live_server: LiveServer, out: Path) -> StoredRuns:
    """A fresh tenant, and two ``atende eval run`` of the suite on it: one whose gate holds, then one failing."""
    tenant = make_admin_tenant(live_server)
    suite = out / "small.jsonl"
    suite.write_text("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in SUITE))
    reports = []
    for name, gate, code in (("held", "pass_rate=0.3", 0), ("failed", "pass_rate=0.9", 1)):
        report = out / f"{name}.json"
        result = run_eval(
            live_server.data_dir,
            "run",
            str(suite),
            "--tenant",
            tenant.slug,
            "--json",
            str(report),
            "--fail-under",
            gate,
        )
        assert result.returncode == code, result.stdout + result.stderr
        assert "stored eval run" in result.stderr
        reports.append(json.loads(report.read_text()))
    return StoredRuns(tenant, *reports)


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=60)


@pytest.fixture(scope="module")
def runs(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> StoredRuns:
    return run_suite_twice(live_server, tmp_path_factory.mktemp("eval-runs"))


@pytest.fixture(scope="module")
def admin(client: httpx.Client, runs: StoredRuns) -> dict[str, str]:
    return login(client, runs.tenant.admin)


def listed(client: httpx.Client, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/evals", headers=headers, params=params)
    assert response.status_code == 200, response.text
    runs: list[dict[str, Any]] = response.json()
    return runs


def test_runs_are_listed_newest_first_with_their_metrics_and_gates(
    client: httpx.Client, admin: dict[str, str], runs: StoredRuns
) -> None:
    newest, oldest = listed(client, admin)
    assert [newest["run_id"], oldest["run_id"]] == [runs.failed["run_id"], runs.held["run_id"]]

    assert newest["passed"] is False and newest["incomplete"] is False
    assert [(g["metric"], g["threshold"], g["passed"]) for g in newest["gates"]] == [
        ("pass_rate", 0.9, False)
    ]
    assert oldest["passed"] is True
    assert [(g["metric"], g["passed"]) for g in oldest["gates"]] == [("pass_rate", True)]
    for summary, report in ((newest, runs.failed), (oldest, runs.held)):
        assert summary["metrics"] == report["metrics"]
        assert summary["metrics"]["pass_rate"] == pytest.approx(1 / 3, abs=1e-3)
        assert (summary["cases_run"], summary["cases_passed"], summary["total_cases"]) == (3, 1, 3)
        assert summary["suites"] == report["suites"] and summary["suites"][0].endswith("small.jsonl")
        assert summary["git_commit"] == report["git_commit"]
        assert summary["report_url"] == f"/evals/{summary['id']}/report"

    assert [run["run_id"] for run in listed(client, admin, limit=1)] == [runs.failed["run_id"]]
    too_few = client.get("/api/v1/evals", headers=admin, params={"limit": 0})
    assert too_few.status_code == 422
    assert too_few.json()["errors"][0]["field"] == "limit"


def test_a_run_gives_back_the_json_report_the_cli_wrote(
    client: httpx.Client, admin: dict[str, str], runs: StoredRuns
) -> None:
    run_id = listed(client, admin)[1]["id"]
    response = client.get(f"/api/v1/evals/{run_id}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == runs.held


def test_the_stored_report_renders_as_html_with_the_failing_cases(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    run_id = listed(client, admin)[0]["id"]
    response = client.get(f"/api/v1/evals/{run_id}/report", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert 'data-case="human-is-not-billing"' in html and 'data-case="pix-discount"' in html
    assert 'data-case="asks-for-human"' not in html, "a passing case is not listed as failing"
    assert '<svg class="chart metric-bars"' in html


def test_another_tenants_run_is_not_found(
    client: httpx.Client, admin: dict[str, str], live_server: LiveServer
) -> None:
    run_id = listed(client, admin)[0]["id"]
    other = login(client, make_admin_tenant(live_server).admin)
    assert listed(client, other) == []
    for path in (f"/api/v1/evals/{run_id}", f"/api/v1/evals/{run_id}/report"):
        response = client.get(path, headers=other)
        assert response.status_code == 404
        assert response.json()["detail"] == f"eval run {run_id} not found"


def test_an_unknown_run_is_not_found(client: httpx.Client, admin: dict[str, str]) -> None:
    unknown = uuid.uuid4()
    response = client.get(f"/api/v1/evals/{unknown}", headers=admin)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == f"eval run {unknown} not found"


@pytest.mark.parametrize("suffix", ["", "/{run_id}", "/{run_id}/report"])
def test_an_agent_cannot_see_the_eval_runs(
    client: httpx.Client, admin: dict[str, str], runs: StoredRuns, suffix: str
) -> None:
    run_id = listed(client, admin)[0]["id"]
    response = client.get(
        f"/api/v1/evals{suffix.format(run_id=run_id)}", headers=login(client, runs.tenant.agent)
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "only admins see the tenant's eval runs"


def test_a_usage_error_stores_nothing(
    client: httpx.Client, admin: dict[str, str], runs: StoredRuns, tmp_path: Path, live_server: LiveServer
) -> None:
    suite = tmp_path / "unknown-document.jsonl"
    suite.write_text(
        '{"kind": "retrieval", "id": "pix", "query": "pix", "gold_documents": ["formas-de-pagamento.md"]}\n'
    )
    result = run_eval(live_server.data_dir, "run", str(suite), "--tenant", runs.tenant.slug)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is not a document of tenant" in result.stderr
    assert len(listed(client, admin)) == 2
