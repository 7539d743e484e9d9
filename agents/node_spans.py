"""A trace span per graph node (``atende.classify``, ``atende.retrieve``…), named by what it decided.

The attributes are read off the node's partial update: labels (intent, action, rule) and counts
(passages), never the customer's text nor the reply. An LLM call inside a node is its child
(``agents.llm.genai_span``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from functools import wraps
from typing import Protocol

from langgraph.runtime import Runtime
from opentelemetry.util.types import AttributeValue

from agents.context import AgentContext
from agents.state import AgentState
from core.tracing import tracer


class Node(Protocol):
    """A node as LangGraph calls it: the state, and the run's ``runtime`` by keyword."""

    __name__: str

    def __call__(self, state: AgentState, *, runtime: Runtime[AgentContext]) -> Awaitable[AgentState]: ...


def _attributes(update: AgentState) -> dict[str, AttributeValue]:
    found: dict[str, AttributeValue] = {}
    if "classification" in update:
        seen = update["classification"]
        found |= {
            "atende.intent": seen.intent,
            "atende.sentiment": seen.sentiment,
            "atende.language": seen.language,
        }
        if seen.guardrail:
            found["atende.guardrail"] = seen.guardrail
    if "passages" in update:
        found["atende.retrieve.passages"] = len(update["passages"])
    if "decision" in update:
        decision = update["decision"]
        found |= {"atende.decision.action": decision.action, "atende.decision.rule": decision.rule}
    return found


def traced(node: Node) -> Node:
    """``node`` run inside its span. ``wraps`` keeps its signature: LangGraph reads it to pass ``runtime``."""
    name = f"atende.{node.__name__}"

    @wraps(node)
    async def run(state: AgentState, *, runtime: Runtime[AgentContext]) -> AgentState:
        with tracer.start_as_current_span(name) as span:
            update = await node(state, runtime=runtime)
            if span.is_recording():
                span.set_attributes(_attributes(update))
            return update

    return run
