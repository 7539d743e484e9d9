"""Sentiment, intent and churn risk of one customer message, with the history it follows."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from agents.classifiers import _patterns as p
from knowledge.language import detect_language
from knowledge.text import normalize, words


@dataclass(frozen=True)
class Classification:
    language: str
    sentiment: str
    """negative, neutral or positive."""
    sentiment_score: float
    """From -1 (furious) to 1 (delighted)."""
    intent: str
    churn_risk: float
    churn_reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sentiment_score(text: str) -> float:
    """Lexicon score with negation, shouting and exclamation marks, squashed into [-1, 1]."""
    tokens = words(normalize(text).replace("'", ""))
    total = 0.0
    for i, token in enumerate(tokens):
        weight = p.SENTIMENT_LEXICON.get(token, 0.0)
        if weight and any(t in p.NEGATIONS for t in tokens[max(0, i - 2) : i]):
            weight = -weight * 0.6
        total += weight
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    if total < 0:
        total *= 1.0 + 0.25 * min(text.count("!"), 4) + (0.5 if shouting else 0.0)
    return max(-1.0, min(1.0, total / 4.0))


def _sentiment_label(score: float) -> str:
    if score <= -0.25:
        return "negative"
    if score >= 0.25:
        return "positive"
    return "neutral"


def asks_for_human(text: str) -> bool:
    """Asking for a person, in Portuguese, English or Spanish, however phrased."""
    plain = normalize(text)
    if p.HUMAN_STRONG.search(plain):
        return True
    return bool(p.HUMAN_WEAK.search(plain) and p.TALK_VERBS.search(plain))


def detect_intent(text: str) -> str:
    plain = normalize(text)
    if asks_for_human(text):
        return "human_agent"
    if p.CANCEL.search(plain):
        return "cancel"
    if p.COMPLAINT.search(plain):
        return "complaint"
    if p.BILLING.search(plain):
        return "billing"
    if p.ORDER_STATUS.search(plain):
        return "order_status"
    if p.TECHNICAL.search(plain):
        return "technical_issue"
    short = len(words(plain)) <= 4
    if short and p.THANKS.search(plain):
        return "thanks"
    if short and p.GREETING.search(plain) and not re.search(r"\?", text):
        return "greeting"
    return "question"


def churn_risk(intent: str, sentiment: float, previous_sentiments: list[float]) -> tuple[float, list[str]]:
    """0-1 risk that the customer leaves, with the reasons that raised it."""
    risk, reasons = 0.05, []
    if intent == "cancel":
        risk += 0.45
        reasons.append("asks to cancel")
    if intent == "complaint":
        risk += 0.2
        reasons.append("complaint")
    if sentiment < -0.25:
        risk += 0.25 * min(1.0, -sentiment * 1.5)
        reasons.append("negative sentiment")
    negatives = sum(1 for s in previous_sentiments[-5:] if s < -0.25)
    if negatives >= 2:
        risk += 0.15
        reasons.append("negative across the conversation")
    return round(min(1.0, risk), 3), reasons


def classify(text: str, previous_sentiments: list[float] | None = None) -> Classification:
    score = sentiment_score(text)
    intent = detect_intent(text)
    risk, reasons = churn_risk(intent, score, previous_sentiments or [])
    return Classification(
        language=detect_language(text),
        sentiment=_sentiment_label(score),
        sentiment_score=round(score, 3),
        intent=intent,
        churn_risk=risk,
        churn_reasons=reasons,
    )
