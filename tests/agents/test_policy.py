"""Each rule of a tenant's escalation policy hands off when it should, and only then."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from typing import Any

import msgspec
import pytest

from agents.policy import EscalationPolicy, policy_from_builtins
from agents.tenant_settings import get_policy, save_policy
from conversations.services import Services
from core.accounts import Tenant
from core.errors import InvalidInputError
from tests.agents.turns import agent_turn
from tests.conftest import MakeTenant

QUESTION = "Como tiro a segunda via do boleto?"
UPSET_QUESTION = "Estou chateado, já é a segunda vez que peço: como tiro a segunda via do boleto?"
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")


async def _set_policy(services: Services, tenant: Tenant, **rules: Any) -> None:
    async with services.database.sessionmaker.begin() as session:
        await save_policy(session, tenant.id, {**msgspec.to_builtins(EscalationPolicy()), **rules})


async def _rule(services: Services, tenant: Tenant, text: str, **rules: Any) -> str:
    await _set_policy(services, tenant, **rules)
    state = await agent_turn(services, tenant, text)
    return str(state["decision"].rule)


async def test_an_always_escalate_intent_hands_off_only_when_listed(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    state = await agent_turn(services, tenant, QUESTION)
    intent = state["classification"].intent
    assert state["decision"].rule == "grounded_answer"
    assert (
        await _rule(services, tenant, QUESTION, always_escalate_intents=[intent]) == "always_escalate_intent"
    )
    assert await _rule(services, tenant, QUESTION, always_escalate_intents=[]) == "grounded_answer"


async def test_a_sentiment_threshold_hands_off_at_or_below_it(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    score = (await agent_turn(services, tenant, UPSET_QUESTION))["classification"].sentiment_score
    assert score < 0, "the message reads as upset"
    above = min(1.0, score + 0.05)
    assert await _rule(services, tenant, UPSET_QUESTION, sentiment_threshold=above) == "negative_sentiment"
    assert (
        await _rule(services, tenant, UPSET_QUESTION, sentiment_threshold=score - 0.05) == "grounded_answer"
    )


async def test_a_churn_threshold_hands_off_at_or_above_it(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    text = "Quero cancelar meu plano, como faço?"
    state = await agent_turn(services, tenant, text)
    risk = state["classification"].churn_risk
    assert risk > 0 and state["classification"].churn_reasons, "asking to cancel is a churn signal"
    await _set_policy(services, tenant, churn_threshold=max(0.0, risk - 0.05))
    escalated = await agent_turn(services, tenant, text)
    assert escalated["decision"].rule == "churn_risk"
    assert state["classification"].churn_reasons[0] in escalated["decision"].reason
    assert await _rule(services, tenant, text, churn_threshold=min(1.0, risk + 0.05)) != "churn_risk"


async def test_a_retrieval_confidence_threshold_hands_off_below_it(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    best = (await agent_turn(services, tenant, QUESTION))["passages"][0].relevance
    assert await _rule(services, tenant, QUESTION, min_retrieval_confidence=min(1.0, best + 0.02)) == (
        "no_relevant_passage"
    )
    assert await _rule(services, tenant, QUESTION, min_retrieval_confidence=best - 0.02) == "grounded_answer"


async def test_too_many_bot_answers_in_a_row_bring_in_a_human_and_thanks_resets_the_count(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    await _set_policy(services, tenant, max_bot_turns=2)
    thread = str(uuid.uuid4())
    rules = [
        (await agent_turn(services, tenant, text, thread=thread))["decision"].rule
        for text in (
            QUESTION,
            "E como pago o boleto pelo aplicativo?",
            "obrigado!",
            QUESTION,
            QUESTION,
            QUESTION,
        )
    ]
    assert rules == [
        "grounded_answer",
        "grounded_answer",
        "small_talk",
        "grounded_answer",
        "grounded_answer",
        "too_many_bot_turns",
    ]


BUSINESS_HOURS = {
    "timezone": "America/Sao_Paulo",
    "weekly": {day: [{"opens": "08:00", "closes": "18:00"}] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-25"],
}


@pytest.mark.parametrize(
    ("moment", "outside", "back"),
    [
        (datetime.datetime(2026, 11, 29, 10, 0, tzinfo=SAO_PAULO), True, "segunda-feira às 08:00"),  # Sunday
        (
            datetime.datetime(2026, 11, 30, 19, 30, tzinfo=SAO_PAULO),
            True,
            "terça-feira às 08:00",
        ),  # Monday night
        (
            datetime.datetime(2026, 12, 25, 10, 0, tzinfo=SAO_PAULO),
            True,
            "segunda-feira às 08:00",
        ),  # Christmas
        (datetime.datetime(2026, 11, 30, 10, 0, tzinfo=SAO_PAULO), False, None),  # Monday morning
    ],
)
async def test_outside_business_hours_the_bot_says_when_humans_are_back(
    services: Services, make_tenant: MakeTenant, moment: datetime.datetime, outside: bool, back: str | None
) -> None:
    tenant = await make_tenant()
    await _set_policy(services, tenant, business_hours=BUSINESS_HOURS)
    state = await agent_turn(services, tenant, "Quero falar com um atendente", now=moment)
    assert state["decision"].action == "escalate"
    assert state["decision"].outside_business_hours is outside
    if back:
        assert back in state["reply"]
    else:
        assert "atendente humano" in state["reply"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"sentiment_threshold": 5}, "sentiment_threshold"),
        ({"max_bot_turns": 0}, "max_bot_turns"),
        ({"always_escalate_intents": "cancel"}, "always_escalate_intents"),
        ({"business_hours": {"timezone": "Mars/Olympus"}}, "business_hours.timezone"),
        ({"business_hours": {"weekly": {"funday": []}}}, "business_hours.weekly"),
        (
            {"business_hours": {"weekly": {"mon": [{"opens": "18:00", "closes": "08:00"}]}}},
            "business_hours.weekly.mon",
        ),
        (
            {"business_hours": {"weekly": {"mon": [{"opens": "8h", "closes": "18:00"}]}}},
            "business_hours.weekly.mon[0].opens",
        ),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        policy_from_builtins(raw)
    assert error.value.field == field


async def test_a_refused_policy_leaves_the_stored_one_unchanged(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant(with_kb=False)
    await _set_policy(services, tenant, max_bot_turns=3)
    with pytest.raises(InvalidInputError):
        await _set_policy(services, tenant, max_bot_turns=4, sentiment_threshold=-3)
    async with services.database.sessionmaker() as session:
        assert (await get_policy(session, tenant.id)).max_bot_turns == 3
