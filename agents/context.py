"""Per-run dependencies of the graph: how to search, how to embed, the tenant's thresholds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from knowledge.embeddings import Embedder
from knowledge.search import Passage


@dataclass(frozen=True)
class AgentContext:
    search: Callable[[str], Awaitable[list[Passage]]]
    embedder: Embedder
    min_relevance: float = 0.55
    """Below this the best passage does not answer the question: hand off rather than guess."""
    angry_sentiment: float = -0.75
    """At or below this sentiment score the customer goes to a human."""
