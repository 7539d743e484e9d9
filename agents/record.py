"""The decision record: what ``messages.decision`` keeps of how a message was handled, and why.

The inbox (``web/static/common.js``), the copilot, the conversation history and the evals read its
JSON; these Structs encode to exactly that JSON. A key that a record does not have is absent, never
null: msgspec omits ``UNSET`` fields, and ``omit_defaults`` the parts a record leaves out.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
from msgspec import UNSET, UnsetType

from agents.classifiers import Classification
from agents.llm.base import UsageRecord
from agents.state import Decision
from knowledge.passages import Passage, PassageView

RECORDED_PASSAGES = 5
"""The best passages a record keeps."""


class ClassificationView(msgspec.Struct, kw_only=True):
    """``Classification`` as the record keeps it. A turn decided without the classifier (media the bot
    cannot read, the agent failing) knows only the language: the rest is then absent."""

    language: str
    sentiment: str | UnsetType = UNSET
    sentiment_score: float | UnsetType = UNSET
    intent: str | UnsetType = UNSET
    intent_score: float | UnsetType = UNSET
    out_of_scope: bool | UnsetType = UNSET
    churn_risk: float | UnsetType = UNSET
    churn_reasons: list[str] | UnsetType = UNSET
    intent_rule: str | UnsetType | None = UNSET
    classified_by: str | UnsetType = UNSET
    llm_error: str | UnsetType = UNSET
    guardrail: str | UnsetType = UNSET

    @classmethod
    def of(cls, classification: Classification) -> ClassificationView:
        return msgspec.convert(classification.as_dict(), cls)


class DecisionRecord(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A customer message's record holds the classification, the decision, the best passages and the
    turn's LLM calls; a bot reply's, and a message no graph decided (``csat``, ``human``, ``api``),
    only ``action``, ``rule`` and ``reason``."""

    classification: ClassificationView | None = None
    action: str
    """``respond`` or ``escalate`` (the graph), ``csat``, ``human`` or ``api``."""
    rule: str
    reason: str
    outside_business_hours: bool = False
    passages: list[PassageView] | None = None
    usage: list[UsageRecord] = []
    suppressed: str | None = None
    """Why the bot's reply was kept from the customer (a human took the conversation meanwhile)."""

    @classmethod
    def of_turn(
        cls,
        decision: Decision,
        classification: ClassificationView,
        passages: list[Passage],
        usage: list[UsageRecord],
    ) -> DecisionRecord:
        return cls(
            classification=classification,
            action=decision.action,
            rule=decision.rule,
            reason=decision.reason,
            outside_business_hours=decision.outside_business_hours,
            passages=[PassageView.of(p) for p in passages[:RECORDED_PASSAGES]],
            usage=usage,
        )

    @classmethod
    def of_decision(cls, decision: Decision) -> DecisionRecord:
        return cls(
            action=decision.action,
            rule=decision.rule,
            reason=decision.reason,
            outside_business_hours=decision.outside_business_hours,
        )

    def verdict(self) -> DecisionRecord:
        """Action, rule and reason alone, as a reply's record and a turn's result give them."""
        return DecisionRecord(
            action=self.action, rule=self.rule, reason=self.reason, suppressed=self.suppressed
        )

    def as_json(self) -> dict[str, Any]:
        """The JSON that ``messages.decision`` stores."""
        return cast(dict[str, Any], msgspec.to_builtins(self))

    @classmethod
    def from_json(cls, stored: object) -> DecisionRecord:
        return msgspec.convert(stored, cls)
