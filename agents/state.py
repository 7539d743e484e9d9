"""What the graph carries through a turn, checkpointed per conversation."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


class AgentState(TypedDict, total=False):
    text: str
    """The customer's message of this turn (the only input)."""
    sentiments: Annotated[list[float], operator.add]
    """Sentiment score of every customer turn so far: churn risk looks at the trend."""
    classification: dict[str, Any]
    passages: list[dict[str, Any]]
    decision: dict[str, Any]
    """{"action": "respond"|"escalate", "rule": which rule decided, "reason": in words}."""
    reply: str | None
    citations: list[dict[str, Any]]
