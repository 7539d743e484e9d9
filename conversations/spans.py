"""The pipeline's trace spans: a customer's message received (``atende.receive``) and its turn
(``atende.turn``, parent of the graph's node spans and the LLM calls).

The turn's job carries the receiving span in its labels (``runtime.broker``), so a message's trace
runs from the web request or webhook that stored it to the worker that answered it. The attributes
are ids and labels: a message's text never goes into a span.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Protocol, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Span

from agents.record import DecisionRecord
from conversations.turn_lease import TurnLease
from core.tracing import tracer

TENANT = "atende.tenant.id"
CONVERSATION = "atende.conversation.id"
MESSAGE = "atende.message.id"


class _Outcome(Protocol):
    decision: DecisionRecord
    escalated: bool


S = TypeVar("S")
R = TypeVar("R", bound=_Outcome)
Turn = Callable[[S, TurnLease, uuid.UUID, str | None], Awaitable[R]]


def traced_turn(turn: Turn[S, R]) -> Turn[S, R]:
    """One turn for one message, in its span; the outcome is the decision's action (``respond``,
    ``escalate``, ``human``, ``csat``) and its rule. An exception marks the span failed."""

    @wraps(turn)
    async def run(services: S, lease: TurnLease, message_id: uuid.UUID, gave_up: str | None) -> R:
        attributes = {CONVERSATION: str(lease.conversation_id), MESSAGE: str(message_id)}
        with tracer.start_as_current_span("atende.turn", attributes=attributes) as span:
            result = await turn(services, lease, message_id, gave_up)
            span.set_attributes(
                {
                    "atende.turn.outcome": result.decision.action,
                    "atende.turn.rule": result.decision.rule,
                    "atende.turn.escalated": result.escalated,
                }
            )
            return result

    return run


def note_turn_tenant(tenant_id: uuid.UUID) -> None:
    """The tenant, once the turn has read its message (the current span is the turn's)."""
    trace.get_current_span().set_attribute(TENANT, str(tenant_id))


@contextmanager
def receive_span(tenant_id: uuid.UUID, channel_type: str) -> Iterator[Span]:
    """Storing a customer's message and enqueueing its turn (``mark_received`` names the message)."""
    attributes = {TENANT: str(tenant_id), "atende.channel.type": channel_type}
    with tracer.start_as_current_span("atende.receive", attributes=attributes) as span:
        yield span


def mark_received(span: Span, message_id: uuid.UUID, created: bool) -> None:
    """``created`` is False for a message the channel sent again: no turn follows it."""
    span.set_attributes({MESSAGE: str(message_id), "atende.message.created": created})
