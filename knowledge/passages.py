"""A passage found for a query, with every retriever's score and rank kept for the decision record."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class _Found:
    """What a search finds out about a passage, declared once for the passage and for its view."""

    chunk_id: str
    document: str
    title: str
    heading_path: str
    text: str
    dense_score: float
    lexical_score: float
    fused_score: float
    term_coverage: float
    """Share of the query's content words found in the passage (by stem)."""
    page: int | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None
    rerank_score: float | None = None
    """The cross-encoder's score, when a re-ranker is configured."""


@dataclass(frozen=True)
class Passage(_Found):
    @property
    def relevance(self) -> float:
        """How well the passage matches: meaning first, shared words as supporting evidence."""
        return self.dense_score + 0.3 * self.term_coverage

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class PassageView(_Found):
    """A passage as the decision record and search results show it: every field, and its relevance."""

    relevance: float
    """``Passage.relevance``, to four places."""

    @classmethod
    def of(cls, passage: Passage) -> PassageView:
        return cls(**passage.as_dict(), relevance=round(passage.relevance, 4))
