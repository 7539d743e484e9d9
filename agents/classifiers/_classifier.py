"""The classifier the graph runs on every customer turn: intent, out of scope, sentiment, churn risk.

Heads are trained once per embedding model on the examples in ``data/`` (written for this project in
Portuguese, English and Spanish), and per tenant on those plus the tenant's own examples. Classifying
one message reads its embedding, computed once by the graph, and takes well under a millisecond.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from agents.classifiers._churn import churn_risk
from agents.classifiers._heads import OUT_OF_SCOPE, EmbeddingHead, HeadConfig, Vectors
from agents.classifiers._lexicon import lexicon_score
from agents.classifiers._rules import asks_for_human
from agents.classifiers._vector_cache import cached_encode, cached_object
from knowledge.embeddings import Embedder
from knowledge.language import detect_language
from knowledge.text import words

SENTIMENTS = ("negative", "neutral", "positive")
SMALL_TALK = frozenset({"greeting", "thanks", "goodbye"})
SMALL_TALK_MAX_WORDS = 8
"""A longer message that opens with "oi" or "thanks" is about something else: its next best intent."""
VERY_ANGRY = -0.75
"""A lexicon score at or below this (strong words, shouting, "!!!") floors the sentiment score, and
makes a message the head cannot place a complaint rather than out of scope."""
TENANT_WEIGHT = 20.0
"""How much more one of a tenant's own examples counts than a built-in one, at the least: the
business knows its customers, and its labels must win where they overlap the built-in ones."""
MAX_TENANT_WEIGHT = 100.0
HUMAN_AGENT_MIN_SCORE = 0.5
"""Explicit requests for a person are the rule's; the head's guess needs this much to stand alone."""

INTENT_HEAD = HeadConfig(c=30.0, words=True, chars=True, embedding_weight=1.0, out_of_scope_below=0.25)
"""The production intent head; ``bench/classify.py`` measures this same configuration."""
SENTIMENT_HEAD = HeadConfig(c=1.0, words=True, chars=True, lexicon=True, embedding_weight=0.5)
"""The production sentiment head; ``bench/classify.py`` measures this same configuration."""


@dataclass(frozen=True)
class Classification:
    language: str
    sentiment: str
    """negative, neutral or positive."""
    sentiment_score: float
    """From -1 (furious) to 1 (delighted)."""
    intent: str
    intent_score: float
    """The model's probability for ``intent`` (1.0 when a rule decided it)."""
    out_of_scope: bool
    """Nothing this business handles: weather, jokes, homework, writing code…"""
    churn_risk: float
    churn_reasons: list[str] = field(default_factory=list)
    intent_rule: str | None = None
    """The rule that set the intent over the model's guess, if one did: ``asks_for_human``, or
    ``very_angry`` (a furious message the head took for out of scope is a complaint)."""
    classified_by: Literal["llm", "offline"] | None = None
    """Set when the tenant has the LLM classify: ``offline`` when the model failed and the heads stood."""
    llm_error: str | None = None
    """Why the model failed, when ``classified_by`` is ``offline``."""
    guardrail: str | None = None
    """``prompt_injection`` when the message tries to instruct the assistant."""

    def as_dict(self) -> dict[str, Any]:
        """The decision record's ``classification``: the three notes above only when they are set."""
        notes = ("classified_by", "llm_error", "guardrail")
        return {k: v for k, v in asdict(self).items() if k not in notes or v is not None}


@dataclass(frozen=True)
class ConversationHistory:
    sentiments: list[float] = field(default_factory=list)
    """Sentiment scores of this conversation's earlier customer turns, oldest first."""
    repeat_contacts: int = 0
    """Other conversations of this contact in the last 30 days."""
    past_escalations: int = 0
    """Tickets this contact had before."""


@dataclass(frozen=True)
class Examples:
    """Labelled texts with their embeddings, kept so a tenant's heads train without re-encoding them."""

    texts: list[str]
    labels: list[str]
    vectors: Vectors
    weight: float | NDArray[np.float64] = 1.0
    """How much each example counts in training: one number for all, or one per example."""

    def weights(self) -> NDArray[np.float64]:
        return np.broadcast_to(np.asarray(self.weight, dtype=np.float64), (len(self.texts),))

    def __add__(self, other: Examples) -> Examples:
        return Examples(
            self.texts + other.texts,
            self.labels + other.labels,
            np.vstack([self.vectors, other.vectors]),
            np.concatenate([self.weights(), other.weights()]),
        )

    def __len__(self) -> int:
        return len(self.texts)


def sentiment_score(probabilities: dict[str, float], lexicon: float) -> float:
    """The head's expected polarity, carried further by a lexicon that agrees with it.

    A confident but plain negative ("my order is late") lands near -0.6; strong words, shouting and
    exclamation marks take it toward -1, and a very angry lexicon score is the floor.
    """
    head = probabilities.get("positive", 0.0) - probabilities.get("negative", 0.0)
    agreeing = max(0.0, min(1.0, lexicon if head >= 0 else -lexicon))
    score = head * (0.6 + 0.4 * agreeing)
    if lexicon <= VERY_ANGRY:
        score = min(score, lexicon)
    return round(max(-1.0, min(1.0, score)), 3)


def tenant_weights(builtin: list[str], tenant: list[str]) -> NDArray[np.float64]:
    """Each tenant example counts ``TENANT_WEIGHT`` times a built-in one, and a label of the tenant's
    own weighs, all its examples together, at least as much as a typical built-in label: ten examples
    of "warranty_claim" must hold their ground against a hundred of "product_question"."""
    builtin_counts, tenant_counts = Counter(builtin), Counter(tenant)
    typical = float(np.median(list(builtin_counts.values()))) if builtin_counts else 1.0
    return np.array(
        [
            min(
                MAX_TENANT_WEIGHT,
                max(TENANT_WEIGHT, (typical - builtin_counts[label]) / tenant_counts[label]),
            )
            for label in tenant
        ]
    )


class Classifier:
    def __init__(
        self,
        intents: Examples,
        sentiments: Examples,
        sentiment_head: EmbeddingHead | None = None,
        *,
        out_of_scope_below: float | None = None,
    ) -> None:
        self.intent_examples = intents
        self.sentiment_examples = sentiments
        threshold = INTENT_HEAD.out_of_scope_below if out_of_scope_below is None else out_of_scope_below
        self._intent = EmbeddingHead(INTENT_HEAD, out_of_scope_below=threshold).fit(
            intents.texts, intents.vectors, intents.labels, intents.weights()
        )
        self._sentiment = sentiment_head or EmbeddingHead(SENTIMENT_HEAD).fit(
            sentiments.texts, sentiments.vectors, sentiments.labels, sentiments.weights()
        )
        self.labels: frozenset[str] = frozenset(self._intent.classes) | {"human_agent", OUT_OF_SCOPE}
        """Intents it knows (built-in and the tenant's)."""

    def extended(
        self,
        intents: Examples,
        sentiments: Examples,
        *,
        builtin_intents: bool = True,
        builtin_sentiments: bool = True,
        out_of_scope_below: float | None = None,
    ) -> Classifier:
        """A classifier trained on these examples as well as this one's; a business's own examples
        count more, so its labels win where they overlap the built-in ones (see ``tenant_weights``).

        Without ``builtin_intents`` (or ``builtin_sentiments``) it learns that task from the business's
        examples alone: for a business whose own labels cover its customers."""
        if builtin_intents:
            intents = self.intent_examples + replace(
                intents, weight=tenant_weights(self.intent_examples.labels, intents.labels)
            )
        if not len(sentiments):
            return Classifier(
                intents, self.sentiment_examples, self._sentiment, out_of_scope_below=out_of_scope_below
            )
        if builtin_sentiments:
            sentiments = self.sentiment_examples + replace(
                sentiments, weight=tenant_weights(self.sentiment_examples.labels, sentiments.labels)
            )
        return Classifier(intents, sentiments, out_of_scope_below=out_of_scope_below)

    def _intent_of(self, text: str, vector: Vectors, very_angry: bool) -> tuple[str, float, str | None]:
        if asks_for_human(text):
            return "human_agent", 1.0, "asks_for_human"
        prediction = self._intent.predict_one(text, vector)
        ranked = sorted(prediction.probabilities.items(), key=lambda item: -item[1])
        label, score = ranked[0]
        if very_angry and OUT_OF_SCOPE in (label, prediction.label):
            return "complaint", round(prediction.probabilities.get("complaint", 0.0), 3), "very_angry"
        if prediction.label == OUT_OF_SCOPE and label != OUT_OF_SCOPE:  # no intent is likely enough
            return OUT_OF_SCOPE, round(1.0 - score, 3), None
        if label in SMALL_TALK and len(words(text)) > SMALL_TALK_MAX_WORDS:
            label, score = next((lab, p) for lab, p in ranked if lab not in SMALL_TALK)
        if label == "human_agent" and score < HUMAN_AGENT_MIN_SCORE:
            label, score = next((lab, p) for lab, p in ranked if lab != "human_agent")
        return label, round(score, 3), None

    def classify(
        self, text: str, vector: Vectors, history: ConversationHistory | None = None
    ) -> Classification:
        """Classify one customer message; ``vector`` is its embedding by the classifier's model."""
        history = history or ConversationHistory()
        lexicon = lexicon_score(text)
        intent, intent_score, rule = self._intent_of(text, vector, very_angry=lexicon <= VERY_ANGRY)
        sentiment = self._sentiment.predict_one(text, vector)
        score = sentiment_score(sentiment.probabilities, lexicon)
        label = "negative" if lexicon <= VERY_ANGRY else sentiment.label
        risk, reasons = churn_risk(
            intent, [*history.sentiments, score], history.repeat_contacts, history.past_escalations
        )
        return Classification(
            language=detect_language(text),
            sentiment=label,
            sentiment_score=score,
            intent=intent,
            intent_score=intent_score,
            out_of_scope=intent == OUT_OF_SCOPE,
            churn_risk=risk,
            churn_reasons=reasons,
            intent_rule=rule,
        )


def builtin_examples(name: str, label_field: str) -> list[tuple[str, str]]:
    """The project's own examples in ``data/<name>.jsonl``: (text, label) pairs."""
    source = resources.files("agents.classifiers").joinpath(f"data/{name}.jsonl").read_text("utf-8")
    rows = [json.loads(line) for line in source.splitlines() if line.strip()]
    return [(row["text"], row[label_field]) for row in rows]


def _encoded(embedder: Embedder, pairs: list[tuple[str, str]]) -> Examples:
    texts = [text for text, _ in pairs]
    return Examples(texts, [label for _, label in pairs], cached_encode(embedder, texts))


_builtin: dict[str, Classifier] = {}
_builtin_lock = threading.Lock()


def cached_builtin_classifier(embedder: Embedder) -> Classifier | None:
    return _builtin.get(embedder.model_name)


def builtin_classifier(embedder: Embedder) -> Classifier:
    """The classifier trained on the project's examples; trained once per embedding model and
    machine (the trained heads are kept in the cache folder, keyed by everything they depend on)."""
    with _builtin_lock:
        if embedder.model_name not in _builtin:
            intents = builtin_examples("intents", "intent")
            sentiments = builtin_examples("sentiment", "sentiment")
            key = repr((embedder.model_name, intents, sentiments, INTENT_HEAD, SENTIMENT_HEAD))
            _builtin[embedder.model_name] = cached_object(
                "builtin-classifier",
                key,
                lambda: Classifier(_encoded(embedder, intents), _encoded(embedder, sentiments)),
            )
        return _builtin[embedder.model_name]
