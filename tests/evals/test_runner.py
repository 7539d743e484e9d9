"""A suite through the real pipeline of a tenant: the graph, the search, the classifier; nothing is left behind."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from channels.models import Message
from conversations.services import Services
from evals import scoring
from evals.runner import run_cases
from evals.suite import SuiteError, load_suites
from handoff.models import Ticket
from tests.conftest import MakeTenant

CASES: list[dict[str, Any]] = [
    {
        "kind": "retrieval",
        "id": "boleto",
        "query": "Como tiro a segunda via do boleto?",
        "gold_documents": ["segunda-via-boleto.md"],
    },
    {
        "kind": "retrieval",
        "id": "router-answer",
        "query": "the router light is red",
        "gold_answer": "blinking red LOS",
    },
    {
        "kind": "classification",
        "id": "human",
        "text": "quero falar com um atendente",
        "expect": {"intent": "human_agent", "escalated": True},
    },
    {
        "kind": "conversation",
        "id": "wifi-then-human",
        "turns": [
            {
                "user": "My wifi keeps dropping, what should I do?",
                "expect": {
                    "escalated": False,
                    "cites": "wifi-troubleshooting.md",
                    "contains": "restart the router",
                    "language": "en",
                },
            },
            {
                "user": "I want to talk to a human agent",
                "expect": {"escalated": True, "rule": "customer_asked_for_human"},
            },
        ],
    },
    {
        "kind": "conversation",
        "id": "wrong-on-purpose",
        "turns": [{"user": "quero falar com um atendente", "expect": {"escalated": False}}],
    },
]


def jsonl(cases: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)


async def test_a_suite_runs_the_real_pipeline_and_stores_nothing(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    tenant = await make_tenant()
    suite = tmp_path / "suite.jsonl"
    suite.write_text(jsonl(CASES))
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    seen: list[str] = []

    outcome = await run_cases(
        services, tenant, load_suites([suite]), run_id=run_id, on_result=lambda r: seen.append(r.id)
    )

    results = {r.id: r for r in outcome.results}
    assert sorted(seen) == sorted(results) and not outcome.incomplete
    failed = {r.id for r in outcome.results if not r.passed}
    assert failed == {"wrong-on-purpose"}, [c for r in outcome.results for t in r.turns for c in t.checks]
    wifi = results["wifi-then-human"].turns
    assert wifi[0].citations[0]["document"] == "wifi-troubleshooting.md"
    assert wifi[0].groundedness == 1.0, "the offline answerer only quotes the passages"
    assert wifi[1].decision["rule"] == "customer_asked_for_human"
    wrong = results["wrong-on-purpose"].turns[0].checks
    assert [(c.name, c.passed, c.expected, c.actual) for c in wrong] == [
        ("escalated", False, "False", "True")
    ]

    metrics = scoring.overall(outcome.results)
    assert metrics["pass_rate"] == 0.8
    assert metrics["hit@5"] == 1.0 and metrics["mrr@10"] > 0.5
    assert metrics["escalation_recall"] == 1.0
    assert metrics["escalation_precision"] == pytest.approx(2 / 3, abs=1e-4), "one hand-off it did not want"
    assert metrics["citation_accuracy"] == 1.0
    assert outcome.settings["min_relevance"] == services.settings.min_relevance

    async with services.database.sessionmaker() as session:
        messages = await session.scalar(select(func.count()).where(Message.tenant_id == tenant.id))
        tickets = await session.scalar(select(func.count()).where(Ticket.tenant_id == tenant.id))
        checkpoints = await session.scalar(
            text("SELECT count(*) FROM checkpoints WHERE thread_id LIKE :run"), {"run": f"eval:{run_id}:%"}
        )
    assert (messages, tickets, checkpoints) == (0, 0, 0)


async def test_a_document_the_tenant_does_not_have_stops_the_run_before_it_starts(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    tenant = await make_tenant()
    suite = tmp_path / "suite.jsonl"
    suite.write_text(
        jsonl(
            [
                CASES[0],
                {
                    "kind": "conversation",
                    "id": "v",
                    "turns": [{"user": "oi"}, {"user": "boleto?", "expect": {"cites": "boleto.pdf"}}],
                },
            ]
        )
    )
    started: list[bool] = []
    with pytest.raises(SuiteError) as raised:
        await run_cases(
            services, tenant, load_suites([suite]), run_id="never", on_start=lambda: started.append(True)
        )
    assert raised.value.detail.startswith(f"{suite}:2: turns[1].expect.cites: 'boleto.pdf' is not a document")
    assert started == []
