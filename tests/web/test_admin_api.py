"""Over HTTP on a running ``atende demo``: the admin's escalation policy, LLM provider and usage.

The tests work in tenants of their own, so the demo tenant other tests chat with keeps its policy.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from agents.usage import record_usage
from channels.models import Conversation
from core.accounts import get_tenant
from core.database import open_database
from core.settings import Settings
from tests.conftest import LiveServer
from tests.helpers import AdminTenant, ChatCustomer, login, make_admin_tenant

DEFAULT_POLICY = {
    "always_escalate_intents": ["human_agent"],
    "sentiment_threshold": -0.7,
    "churn_threshold": 0.8,
    "min_retrieval_confidence": None,
    "max_bot_turns": 6,
    "business_hours": None,
}
NEW_POLICY: dict[str, Any] = {
    "always_escalate_intents": ["human_agent", "cancel", "refund"],
    "sentiment_threshold": -0.4,
    "churn_threshold": 0.65,
    "min_retrieval_confidence": 0.6,
    "max_bot_turns": 4,
    "business_hours": {
        "timezone": "America/Sao_Paulo",
        "weekly": {
            "mon": [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "18:00"}],
            "sat": [{"opens": "09:00", "closes": "13:00"}],
        },
        "holidays": ["2025-12-25", "2026-01-01"],
    },
}


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=30)


@pytest.fixture(scope="module")
def tenant(live_server: LiveServer) -> AdminTenant:
    return make_admin_tenant(live_server)


@pytest.fixture(scope="module")
def admin(client: httpx.Client, tenant: AdminTenant) -> dict[str, str]:
    return login(client, tenant.admin)


def put_policy(client: httpx.Client, headers: dict[str, str], policy: dict[str, Any]) -> httpx.Response:
    return client.put("/api/v1/admin/policy", json=policy, headers=headers)


def test_admin_reads_the_default_policy_then_saves_a_new_one(
    client: httpx.Client, live_server: LiveServer
) -> None:
    fresh = make_admin_tenant(live_server)
    headers = login(client, fresh.admin)
    first = client.get("/api/v1/admin/policy", headers=headers)
    assert first.status_code == 200
    assert first.json() == DEFAULT_POLICY

    saved = put_policy(client, headers, NEW_POLICY)
    assert saved.status_code == 200, saved.text
    assert saved.json() == NEW_POLICY
    assert client.get("/api/v1/admin/policy", headers=headers).json() == NEW_POLICY

    # Back to "humans are always there" and the server's retrieval threshold.
    relaxed = {**NEW_POLICY, "business_hours": None, "min_retrieval_confidence": None}
    assert put_policy(client, headers, relaxed).status_code == 200
    assert client.get("/api/v1/admin/policy", headers=headers).json() == relaxed


def test_the_page_offers_the_known_intents_and_the_server_defaults(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    intents = client.get("/api/v1/admin/intents", headers=admin).json()
    assert {"human_agent", "cancel", "complaint", "billing", "refund"} <= set(intents)
    defaults = client.get("/api/v1/admin/defaults", headers=admin).json()
    assert defaults["policy"] == DEFAULT_POLICY
    assert defaults["weekdays"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert set(defaults["providers"]) == {"openai", "anthropic", "openai-compatible"}
    assert 0 < defaults["min_relevance"] < 1


def test_an_intent_the_classifier_does_not_know_stays_listed_once_the_policy_names_it(
    client: httpx.Client, live_server: LiveServer
) -> None:
    headers = login(client, make_admin_tenant(live_server).admin)
    policy = {**DEFAULT_POLICY, "always_escalate_intents": ["human_agent", "warranty_claim"]}
    assert put_policy(client, headers, policy).status_code == 200
    assert "warranty_claim" in client.get("/api/v1/admin/intents", headers=headers).json()


@pytest.mark.parametrize(
    "path",
    ["/api/v1/admin/policy", "/api/v1/admin/llm", "/api/v1/admin/usage", "/api/v1/admin/intents"],
)
def test_an_agent_cannot_read_the_admin_settings(
    client: httpx.Client, tenant: AdminTenant, path: str
) -> None:
    response = client.get(path, headers=login(client, tenant.agent))
    assert response.status_code == 403
    assert response.json()["detail"] == "only admins change the tenant's settings"


def test_an_agent_cannot_change_the_policy_or_the_provider(
    client: httpx.Client, tenant: AdminTenant, admin: dict[str, str]
) -> None:
    before = client.get("/api/v1/admin/policy", headers=admin).json()
    before_llm = client.get("/api/v1/admin/llm", headers=admin).json()
    agent = login(client, tenant.agent)
    assert put_policy(client, agent, {**before, "max_bot_turns": 1}).status_code == 403
    llm = {"primary": {"provider": "openai", "model": "gpt-4o-mini", "api_key": "sk-agent-was-here-0000"}}
    assert client.put("/api/v1/admin/llm", json=llm, headers=agent).status_code == 403
    assert client.get("/api/v1/admin/policy", headers=admin).json() == before
    assert client.get("/api/v1/admin/llm", headers=admin).json() == before_llm


def test_without_logging_in_the_settings_are_closed(client: httpx.Client) -> None:
    assert client.get("/api/v1/admin/policy").status_code == 401


def _with(change: dict[str, Any]) -> dict[str, Any]:
    policy = copy.deepcopy(NEW_POLICY)
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        target = policy
        for key in parents:
            target = target[key]
        target[last] = value
    return policy


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"sentiment_threshold": 5}, "sentiment_threshold", "<= 1.0"),
        ({"churn_threshold": -0.1}, "churn_threshold", ">= 0.0"),
        ({"min_retrieval_confidence": "high"}, "min_retrieval_confidence", "got `str`"),
        ({"max_bot_turns": 0}, "max_bot_turns", ">= 1"),
        (
            {"business_hours.weekly.fun": [{"opens": "08:00", "closes": "18:00"}]},
            "business_hours.weekly",
            "'fun'",
        ),
        (
            {"business_hours.weekly.sat": [{"opens": "18:00", "closes": "08:00"}]},
            "business_hours.weekly.sat",
            "opens 18:00 is not before 08:00",
        ),
        ({"business_hours.timezone": "Mars/Olympus_Mons"}, "business_hours.timezone", "unknown time zone"),
        ({"business_hours.holidays": ["next friday"]}, "business_hours.holidays[0]", "date"),
        ({"always_escalate_intents": "cancel"}, "always_escalate_intents", "Expected `array`"),
    ],
    ids=[
        "sentiment",
        "churn",
        "retrieval",
        "turns",
        "weekday",
        "closes-before-opens",
        "timezone",
        "holiday",
        "intents",
    ],
)
def test_a_bad_policy_is_refused_naming_the_field_and_nothing_is_saved(
    client: httpx.Client, admin: dict[str, str], change: dict[str, Any], field: str, reason: str
) -> None:
    assert put_policy(client, admin, NEW_POLICY).status_code == 200
    refused = put_policy(client, admin, _with(change))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    [error] = refused.json()["errors"]
    assert error["field"] == field
    assert reason in error["reason"]
    assert client.get("/api/v1/admin/policy", headers=admin).json() == NEW_POLICY


def test_an_unknown_policy_field_is_refused(client: httpx.Client, admin: dict[str, str]) -> None:
    refused = put_policy(client, admin, {**DEFAULT_POLICY, "escalate_on_full_moon": True})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "escalate_on_full_moon", "reason": "is not a setting"}]


def test_each_admin_sees_only_their_own_tenant(
    client: httpx.Client, live_server: LiveServer, admin: dict[str, str]
) -> None:
    mine = {**DEFAULT_POLICY, "max_bot_turns": 17, "sentiment_threshold": -0.123}
    assert put_policy(client, admin, mine).status_code == 200
    demo = client.get("/api/v1/admin/policy", headers=login(client, live_server.admin)).json()
    assert demo["max_bot_turns"] != 17 and demo["sentiment_threshold"] != -0.123
    assert client.get("/api/v1/admin/policy", headers=admin).json() == mine


# ---- LLM provider -------------------------------------------------------------------------------

SECRET = "sk-live-0123456789abcdef-wxyz"


def test_the_api_key_is_stored_but_only_ever_shown_masked(
    client: httpx.Client, live_server: LiveServer
) -> None:
    headers = login(client, make_admin_tenant(live_server).admin)
    assert client.get("/api/v1/admin/llm", headers=headers).json() == {
        "primary": None,
        "fallback": None,
        "classify_with_llm": False,
    }

    body: dict[str, dict[str, Any]] = {
        "primary": {
            "provider": "openai",
            "model": "gpt-4o-mini",
            "api_key": SECRET,
            "input_price_per_mtok": 0.15,
            "output_price_per_mtok": 0.6,
        },
        "fallback": {
            "provider": "openai-compatible",
            "model": "llama3.1",
            "base_url": "http://127.0.0.1:11434/v1",
        },
    }
    saved = client.put("/api/v1/admin/llm", json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    assert SECRET not in saved.text
    assert saved.json()["primary"] == {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "base_url": None,
        "api_key": "…wxyz",
        "input_price_per_mtok": 0.15,
        "output_price_per_mtok": 0.6,
    }
    assert saved.json()["fallback"]["base_url"] == "http://127.0.0.1:11434/v1"
    assert saved.json()["fallback"]["api_key"] is None
    read = client.get("/api/v1/admin/llm", headers=headers)
    assert SECRET not in read.text
    assert read.json() == saved.json()

    # Saving the form again without retyping the key keeps it.
    without_key = {k: v for k, v in body["primary"].items() if k != "api_key"}
    changed = {"primary": {**without_key, "model": "gpt-4.1-mini"}, "fallback": body["fallback"]}
    resaved = client.put("/api/v1/admin/llm", json=changed, headers=headers).json()
    assert resaved["primary"]["model"] == "gpt-4.1-mini"
    assert resaved["primary"]["api_key"] == "…wxyz"

    # Sending back what GET returned (the masked key) keeps the key too, not "…wxyz" as a key.
    echoed = client.put("/api/v1/admin/llm", json=read.json(), headers=headers)
    assert echoed.status_code == 200, echoed.text
    assert echoed.json()["primary"]["api_key"] == "…wxyz"
    assert client.get("/api/v1/admin/llm", headers=headers).json()["primary"]["api_key"] == "…wxyz"

    # Removing the provider goes back to the server's default.
    cleared = client.put("/api/v1/admin/llm", json={"primary": None, "fallback": None}, headers=headers)
    assert cleared.json() == {"primary": None, "fallback": None, "classify_with_llm": False}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"primary": {"provider": "watson", "model": "x"}}, "primary.provider"),
        ({"primary": {"provider": "openai-compatible", "model": "llama3.1"}}, "primary.base_url"),
        ({"primary": {"provider": "openai", "model": ""}}, "primary.model"),
        ({"primary": {"provider": "openai", "model": "m", "base_url": "ftp://x"}}, "primary.base_url"),
        (
            {"primary": {"provider": "openai", "model": "m", "output_price_per_mtok": -1}},
            "primary.output_price_per_mtok",
        ),
        ({"fallback": {"provider": "anthropic", "model": "claude-3-5-haiku-latest"}}, "fallback"),
    ],
    ids=[
        "unknown-provider",
        "compatible-without-url",
        "no-model",
        "bad-url",
        "negative-price",
        "fallback-alone",
    ],
)
def test_a_bad_provider_is_refused_naming_the_field_and_nothing_is_saved(
    client: httpx.Client, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    good = {
        "primary": {
            "provider": "anthropic",
            "model": "claude-3-5-haiku-latest",
            "api_key": "sk-ant-keep-5678",
        }
    }
    assert client.put("/api/v1/admin/llm", json=good, headers=admin).status_code == 200
    before = client.get("/api/v1/admin/llm", headers=admin).json()
    refused = client.put("/api/v1/admin/llm", json=body, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field
    assert client.get("/api/v1/admin/llm", headers=admin).json() == before


# ---- usage ----------------------------------------------------------------------------------------


def _conversation_of(client: httpx.Client, live_server: LiveServer, slug: str) -> None:
    customer = ChatCustomer.start(client, slug)
    sent = customer.send("Olá")
    assert sent.status_code == 202, sent.text
    assert len(customer.wait_for(2)) == 2, "the bot did not answer"


Call = tuple[uuid.UUID, str, str, int, int, float]


async def _record_calls(live_server: LiveServer, slug: str) -> tuple[uuid.UUID, uuid.UUID]:
    """LLM calls as the graph records them, on the tenant's two conversations: (cheap, costly)."""
    async with (
        open_database(Settings(data_dir=live_server.data_dir)) as database,
        database.sessionmaker.begin() as session,
    ):
        owner = await get_tenant(session, slug)
        cheap, costly = (
            await session.scalars(select(Conversation.id).where(Conversation.tenant_id == owner.id))
        ).all()
        calls: list[Call] = [
            (cheap, "openai", "gpt-4o-mini", 1000, 200, 0.00027),
            (costly, "anthropic", "claude-sonnet-4", 3000, 800, 0.021),
            (costly, "anthropic", "claude-sonnet-4", 2000, 500, 0.0135),
        ]
        for conversation, provider, model, tokens_in, tokens_out, cost in calls:
            usage = {
                "provider": provider,
                "model": model,
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "cost_usd": cost,
                "purpose": "reply",
            }
            record_usage(session, owner.id, conversation, usage)
    return cheap, costly


def test_usage_shows_tokens_and_cost_per_model_and_costliest_conversations_first(
    client: httpx.Client, live_server: LiveServer
) -> None:
    fresh = make_admin_tenant(live_server)
    headers = login(client, fresh.admin)
    empty = client.get("/api/v1/admin/usage", headers=headers).json()
    assert empty == {
        "days": 30,
        "total": {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
        "by_model": [],
        "by_conversation": [],
    }

    _conversation_of(client, live_server, fresh.slug)
    _conversation_of(client, live_server, fresh.slug)
    cheap, costly = asyncio.run(_record_calls(live_server, fresh.slug))

    usage = client.get("/api/v1/admin/usage", params={"days": 7}, headers=headers).json()
    assert usage["days"] == 7
    assert usage["total"] == {"calls": 3, "input_tokens": 6000, "output_tokens": 1500, "cost_usd": 0.03477}
    assert usage["by_model"] == [
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4",
            "calls": 2,
            "input_tokens": 5000,
            "output_tokens": 1300,
            "cost_usd": 0.0345,
        },
        {
            "provider": "openai",
            "model": "gpt-4o-mini",
            "calls": 1,
            "input_tokens": 1000,
            "output_tokens": 200,
            "cost_usd": 0.00027,
        },
    ]
    assert [c["conversation_id"] for c in usage["by_conversation"]] == [str(costly), str(cheap)]
    assert usage["by_conversation"][0]["cost_usd"] == 0.0345

    demo = client.get("/api/v1/admin/usage", headers=login(client, live_server.admin)).json()
    assert str(costly) not in {c["conversation_id"] for c in demo["by_conversation"]}


@pytest.mark.parametrize("days", ["0", "367", "soon"])
def test_usage_over_a_bad_period_is_refused(client: httpx.Client, admin: dict[str, str], days: str) -> None:
    refused = client.get("/api/v1/admin/usage", params={"days": days}, headers=admin)
    assert refused.status_code in {400, 422}, refused.text
    assert "days" in refused.text
