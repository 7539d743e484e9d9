"""What the graph carries through a turn, checkpointed per conversation.

The values are frozen dataclasses because LangGraph's checkpoint serializer (``JsonPlusSerializer``,
msgpack) stores a dataclass as its module, name and fields and calls the class again on load; it
cannot store a msgspec Struct. ``CHECKPOINTED`` names these types for the serializer's allow-list,
and ``typed_value`` reads the plain dicts that Atende checkpointed before the types existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, TypedDict

import msgspec

from agents.classifiers import Classification
from agents.llm.base import UsageRecord
from knowledge.passages import Passage


@dataclass(frozen=True)
class Decision:
    """Respond or hand off, and the policy's rule that said so (``reason`` says it in words)."""

    action: Literal["respond", "escalate"]
    rule: str
    reason: str
    outside_business_hours: bool = False
    """Handed off while no human is at work: the customer was told when they are back."""


@dataclass(frozen=True)
class Citation:
    """A passage the reply was taken from, as the reply message keeps it."""

    document: str
    chunk_id: str
    score: float
    title: str
    heading_path: str
    page: int | None

    @classmethod
    def of(cls, passage: Passage) -> Citation:
        return cls(
            document=passage.document,
            chunk_id=passage.chunk_id,
            score=round(passage.relevance, 4),
            title=passage.title,
            heading_path=passage.heading_path,
            page=passage.page,
        )


def turn_usage(previous: list[UsageRecord] | None, new: list[UsageRecord] | None) -> list[UsageRecord]:
    """LLM usage of the current turn: a turn's input sends None, which starts the list afresh."""
    if new is None:
        return []
    return [*(previous or []), *new]


class AgentState(TypedDict, total=False):
    text: str
    """The customer's message of this turn."""
    message_id: str
    """The stored message this turn answers: a run cut off mid-turn is resumed only for it."""
    classification: Classification
    passages: list[Passage]
    """The search's passages, most relevant first."""
    decision: Decision
    reply: str | None
    citations: list[Citation]
    bot_turns: int
    """Bot answers in a row since the customer last said thanks or bye, or a human took over."""
    usage: Annotated[list[UsageRecord], turn_usage]


CHECKPOINTED: tuple[type, ...] = (Classification, Passage, Decision, Citation, UsageRecord)
"""The state's own types: the checkpoint serializer rebuilds these (and its built-in safe types) only."""

_ONE: dict[str, type] = {"classification": Classification, "decision": Decision}
_MANY: dict[str, type] = {"passages": Passage, "citations": Citation, "usage": UsageRecord}


def typed_value(channel: str, value: object) -> object:
    """A state channel's value in this version's types, whatever Atende version checkpointed it.

    Before these types the state held dicts (a passage also carried its ``relevance``, now computed);
    a type the serializer cannot rebuild (renamed, or not on its allow-list) also comes back as its
    fields. Keys that are no longer fields are dropped.
    """
    if channel in _ONE and isinstance(value, dict):
        return msgspec.convert(value, _ONE[channel])
    if channel in _MANY and isinstance(value, list):
        kind = _MANY[channel]
        return [msgspec.convert(item, kind) if isinstance(item, dict) else item for item in value]
    return value
