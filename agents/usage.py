"""LLM tokens and cost, recorded per call and summed per tenant and per conversation."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Mapping
from typing import Any, TypedDict

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.llm.base import UsageRecord
from agents.models import LlmUsage
from core.metrics import LLM_COST, LLM_TOKENS


def record_usage(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID | None,
    usage: UsageRecord | Mapping[str, object],
) -> None:
    """One call in the ledger; a mapping is read as an ``UsageRecord`` (provider, model, input_tokens,
    output_tokens, cost_usd, purpose; ``reply`` when it names none).

    The tenant's token and cost counters move now, not at the commit: the provider charged for the
    call whether or not the caller's transaction commits."""
    call = usage if isinstance(usage, UsageRecord) else msgspec.convert(usage, UsageRecord)
    tenant = str(tenant_id)
    LLM_TOKENS.labels(tenant, "input").inc(max(0, call.input_tokens))  # a counter only goes up
    LLM_TOKENS.labels(tenant, "output").inc(max(0, call.output_tokens))
    LLM_COST.labels(tenant).inc(max(0.0, call.cost_usd))
    session.add(
        LlmUsage(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            purpose=call.purpose,
            provider=call.provider,
            model=call.model,
            input_tokens=call.input_tokens,
            output_tokens=call.output_tokens,
            cost_usd=decimal.Decimal(str(call.cost_usd)),
        )
    )


class UsageTotals(msgspec.Struct):
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class ModelUsage(UsageTotals):
    provider: str
    model: str


class ConversationUsage(UsageTotals):
    conversation_id: str


class UsageSummary(msgspec.Struct):
    days: int
    total: UsageTotals
    by_model: list[ModelUsage]
    by_conversation: list[ConversationUsage]
    """The costliest conversations first (at most 20)."""


class _Totals(TypedDict):
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


def _totals(row: Any) -> _Totals:
    return {
        "calls": int(row.calls),
        "input_tokens": int(row.input_tokens or 0),
        "output_tokens": int(row.output_tokens or 0),
        "cost_usd": float(row.cost_usd or 0),
    }


_SUMS = (
    func.count().label("calls"),
    func.sum(LlmUsage.input_tokens).label("input_tokens"),
    func.sum(LlmUsage.output_tokens).label("output_tokens"),
    func.sum(LlmUsage.cost_usd).label("cost_usd"),
)


async def usage_summary(session: AsyncSession, tenant_id: uuid.UUID, days: int = 30) -> UsageSummary:
    """The tenant's totals over the last ``days``, by model and by conversation (costliest first)."""
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)
    scope = (LlmUsage.tenant_id == tenant_id, LlmUsage.created_at >= since)
    total = (await session.execute(select(*_SUMS).where(*scope))).one()
    by_model = await session.execute(
        select(LlmUsage.provider, LlmUsage.model, *_SUMS)
        .where(*scope)
        .group_by(LlmUsage.provider, LlmUsage.model)
        .order_by(func.sum(LlmUsage.cost_usd).desc())
    )
    by_conversation = await session.execute(
        select(LlmUsage.conversation_id, *_SUMS)
        .where(*scope, LlmUsage.conversation_id.is_not(None))
        .group_by(LlmUsage.conversation_id)
        .order_by(func.sum(LlmUsage.cost_usd).desc())
        .limit(20)
    )
    return UsageSummary(
        days=days,
        total=UsageTotals(**_totals(total)),
        by_model=[ModelUsage(provider=r.provider, model=r.model, **_totals(r)) for r in by_model],
        by_conversation=[
            ConversationUsage(conversation_id=str(r.conversation_id), **_totals(r)) for r in by_conversation
        ],
    )
