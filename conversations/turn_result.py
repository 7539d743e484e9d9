"""What a turn led to (``TurnResult``), read back from the records it kept, so a retried job gets the
result the first run gave."""

from __future__ import annotations

from typing import Any, TypeVar, cast

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.record import ClassificationView, DecisionRecord
from channels.models import Message
from handoff.models import Ticket
from handoff.service import active_ticket

T = TypeVar("T")


def _known(value: T | msgspec.UnsetType) -> T | None:
    return None if isinstance(value, msgspec.UnsetType) else value


class CitedSource(msgspec.Struct):
    document: str
    chunk_id: str
    score: float


class ClassificationSummary(msgspec.Struct):
    """None where the turn had no classifier (media, the agent failing, a human or a rating)."""

    sentiment: str | None = None
    intent: str | None = None
    churn_risk: float | None = None

    @classmethod
    def of(cls, seen: ClassificationView | None) -> ClassificationSummary:
        if seen is None:
            return cls()
        return cls(_known(seen.sentiment), _known(seen.intent), _known(seen.churn_risk))


class TurnResult(msgspec.Struct, kw_only=True):
    """What one customer message led to; ``atende chat --json`` prints it."""

    reply: str | None
    escalated: bool
    ticket_id: str | None
    citations: list[CitedSource] = []
    classification: ClassificationSummary = msgspec.field(default_factory=ClassificationSummary)
    decision: DecisionRecord
    """Action, rule and reason."""
    message_id: str | None = None
    reply_message_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return cast(dict[str, Any], msgspec.to_builtins(self))

    @property
    def outcome(self) -> str:
        """One word for what came of the message, as the turn metrics count it: ``replied``,
        ``handed_off``, ``agent_failed`` (the graph kept failing: handed off), ``suppressed`` (a human
        took over meanwhile), ``human`` (a human owned it already) or ``rated`` (a CSAT answer)."""
        decision = self.decision
        if decision.suppressed:
            return "suppressed"
        if decision.action == "escalate":
            return "agent_failed" if decision.rule == "agent_error" else "handed_off"
        if decision.action == "csat":
            return "rated"
        if decision.action == "human":
            return "human"
        return "replied"


def result_of(message: Message, reply: Message | None, ticket: Ticket | None) -> TurnResult:
    """From the records kept, so a retried job gets the result the first run gave."""
    record = DecisionRecord.from_json(message.decision)
    return TurnResult(
        reply=reply.text if reply else None,
        escalated=record.action in {"escalate", "human"},
        ticket_id=str(ticket.id) if ticket else None,
        citations=[msgspec.convert(c, CitedSource) for c in (reply.citations if reply else [])],
        classification=ClassificationSummary.of(record.classification),
        decision=record.verdict(),
        message_id=str(message.id),
        reply_message_id=str(reply.id) if reply else None,
    )


async def stored_result(session: AsyncSession, message: Message) -> TurnResult:
    """The result of a turn that already ran: a retried job must not answer twice."""
    reply = await session.scalar(
        select(Message).where(Message.tenant_id == message.tenant_id, Message.reply_to_id == message.id)
    )
    ticket = await active_ticket(session, message.tenant_id, message.conversation_id)
    return result_of(message, reply, ticket)
