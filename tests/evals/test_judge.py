"""With an LLM configured, it answers the turns and also judges them: rubrics and groundedness.

The real OpenAI SDK talks to a loopback server that speaks its wire format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agents.tenant_settings import save_llm_settings
from conversations.services import Services
from evals import scoring
from evals.runner import run_cases
from evals.suite import load_suites
from tests.conftest import MakeTenant
from tests.fakes.llm_servers import FakeOpenAI

ANSWER = "Entre no aplicativo e toque em Financeiro e depois em Segunda via [1]. O boleto sai com desconto de 50% [1]."


def fake_model(body: dict[str, Any]) -> str | dict[str, Any]:
    """The bot's reply, or the judge's verdicts, by the structured output the request asks for."""
    schema = body.get("response_format", {}).get("json_schema", {}).get("name")
    if schema == "rubric_verdict":
        said = json.dumps(body["messages"], ensure_ascii=False)
        return {
            "passed": "Financeiro" in said,
            "reason": "it says where to tap" if "Financeiro" in said else "no",
        }
    if schema == "groundedness":
        return {"supported": [True, False]}
    return ANSWER


async def test_the_tenant_llm_judges_rubrics_and_groundedness(
    services: Services, make_tenant: MakeTenant, tmp_path: Path
) -> None:
    tenant = await make_tenant()
    suite = tmp_path / "judged.yaml"
    suite.write_text(
        "- kind: conversation\n"
        "  id: boleto\n"
        "  rubric: tells the customer where to find the duplicate bill\n"
        "  turns:\n"
        "    - user: Como tiro a segunda via do boleto?\n"
        "      expect: {cites: segunda-via-boleto.md, rubric: says where to tap in the app}\n"
    )
    with FakeOpenAI(fake_model) as server:
        async with services.database.sessionmaker.begin() as session:
            await save_llm_settings(
                session,
                tenant.id,
                {
                    "primary": {
                        "provider": "openai",
                        "model": "gpt-4o-mini",
                        "base_url": server.base_url,
                        "api_key": "k",
                    }
                },
                services.settings.resolved_secret_key(),
            )
        outcome = await run_cases(services, tenant, load_suites([suite]), run_id="judged")
        judged = [
            r.body["response_format"]["json_schema"]["name"]
            for r in server.requests
            if "response_format" in r.body
        ]

    [case] = outcome.results
    [turn] = case.turns
    assert (
        turn.reply == ANSWER.replace(" [1]", "") and turn.citations[0]["document"] == "segunda-via-boleto.md"
    )
    assert turn.groundedness == 0.5, "the judge found the second sentence unsupported"
    rubric = next(c for c in turn.checks if c.name == "rubric")
    assert (rubric.passed, rubric.actual) == (True, "it says where to tap")
    assert [c.passed for c in case.checks] == [True]
    assert case.passed
    assert sorted(judged) == ["groundedness", "rubric_verdict", "rubric_verdict"]
    assert outcome.settings["judge"] == "LLM judge (openai:gpt-4o-mini)"
    assert outcome.settings["judge_tokens"] > 0
    metrics = scoring.overall(outcome.results)
    assert metrics["groundedness"] == 0.5
    assert metrics["tokens"] > 0, "the bot's own tokens, apart from the judge's"
