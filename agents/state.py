"""What the graph carries through a turn, checkpointed per conversation."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict


def turn_usage(
    previous: list[dict[str, Any]] | None, new: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """LLM usage of the current turn: a turn's input sends None, which starts the list afresh."""
    if new is None:
        return []
    return [*(previous or []), *new]


class AgentState(TypedDict, total=False):
    text: str
    """The customer's message of this turn."""
    message_id: str
    """The stored message this turn answers: a run cut off mid-turn is resumed only for it."""
    classification: dict[str, Any]
    passages: list[dict[str, Any]]
    decision: dict[str, Any]
    """{"action": "respond"|"escalate", "rule": which rule decided, "reason": in words, ...}."""
    reply: str | None
    citations: list[dict[str, Any]]
    bot_turns: int
    """Bot answers in a row since the customer last said thanks or bye, or a human took over."""
    usage: Annotated[list[dict[str, Any]], turn_usage]
