"""Churn risk: how likely this customer is to leave, from what they ask and how the contact goes.

Each signal is an independent chance of leaving, combined as ``1 - Π(1 - p)``: the risk stays in
[0, 1], grows with every signal and never double-counts past certainty. Reasons are plain words,
shown to agents and written into the decision record.
"""

from __future__ import annotations

BASE_RISK = 0.05
INTENT_RISK = {"cancel": 0.5, "complaint": 0.25, "refund": 0.15}
INTENT_REASON = {"cancel": "asked to cancel", "complaint": "complained", "refund": "asked for a refund"}
NEGATIVE = -0.25
"""A sentiment score at or below this is a negative turn."""


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _falling_turns(scores: list[float]) -> int:
    """How many turns, ending with the last, the sentiment has gone down (0 when it has not)."""
    turns = 1
    for earlier, later in zip(reversed(scores[:-1]), reversed(scores[1:]), strict=True):
        if later > earlier:
            break
        turns += 1
    drop = scores[-turns] - scores[-1] if scores else 0.0
    return turns if turns >= 3 and drop >= 0.3 else 0


def churn_risk(
    intent: str, sentiment_scores: list[float], repeat_contacts: int, past_escalations: int
) -> tuple[float, list[str]]:
    """0-1 risk that the customer leaves, with the reasons that raised it.

    ``sentiment_scores`` are this conversation's customer turns, oldest first, the current one last.
    """
    chances, reasons = [BASE_RISK], []
    if intent in INTENT_RISK:
        chances.append(INTENT_RISK[intent])
        reasons.append(INTENT_REASON[intent])
    if sentiment_scores and sentiment_scores[-1] <= NEGATIVE:
        chances.append(0.3 * min(1.0, -sentiment_scores[-1] * 1.3))
        reasons.append("negative sentiment")
    falling = _falling_turns(sentiment_scores)
    if falling:
        chances.append(min(0.3, 0.1 * falling))
        reasons.append(f"sentiment falling over {falling} turns")
    elif sum(1 for s in sentiment_scores[-5:-1] if s <= NEGATIVE) >= 2:
        chances.append(0.15)
        reasons.append("negative across the conversation")
    if repeat_contacts > 0:
        chances.append(min(0.4, 0.12 * repeat_contacts))
        reasons.append(f"{_ordinal(repeat_contacts + 1)} contact in 30 days")
    if past_escalations > 0:
        chances.append(min(0.3, 0.12 * past_escalations))
        reasons.append(
            "escalated before" if past_escalations == 1 else f"escalated {past_escalations} times before"
        )
    stay = 1.0
    for chance in chances:
        stay *= 1.0 - chance
    return round(1.0 - stay, 3), reasons
