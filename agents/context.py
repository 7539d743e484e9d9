"""Per-turn dependencies of the graph: the tenant's classifier, search, policy and LLM."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from agents.classifiers import Classifier, ConversationHistory
from agents.llm import ChatMessage, LLMProvider
from agents.policy import EscalationPolicy
from knowledge.embeddings import Embedder
from knowledge.passages import Passage

Search = Callable[[str, NDArray[np.float32]], Awaitable[list[Passage]]]


@dataclass
class AgentContext:
    search: Search
    embedder: Embedder
    classifier: Classifier
    policy: EscalationPolicy = field(default_factory=EscalationPolicy)
    min_relevance: float = 0.55
    """The retrieval threshold in force: the policy's, else the server's."""
    llm: LLMProvider | None = None
    """None answers offline, with sentences taken from the passages."""
    llm_classifies: bool = False
    """The tenant chose structured-output classification by the LLM over the offline heads."""
    company: str = "the company"
    history: ConversationHistory = field(default_factory=ConversationHistory)
    transcript: list[ChatMessage] = field(default_factory=list)
    """The conversation before this message, for the LLM."""
    now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)
    vectors: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    """The turn's text embedded once, shared by the classifiers and the search."""

    async def vector(self, text: str) -> NDArray[np.float32]:
        if text not in self.vectors:
            [self.vectors[text]] = await self.embedder.aencode([text])
        return self.vectors[text]
