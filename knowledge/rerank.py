"""Optional cross-encoder re-ranking of the fused candidates, when a model is configured."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from functools import lru_cache

from knowledge.embeddings import resolve_model_path
from knowledge.passages import Passage


class Reranker:
    def __init__(self, model_name: str) -> None:
        from sentence_transformers import CrossEncoder

        self.model_name = model_name
        self._model = CrossEncoder(resolve_model_path(model_name), num_labels=1, device="cpu")
        self._lock = threading.Lock()

    def scores(self, query: str, passages: list[Passage]) -> list[float]:
        pairs = [(query, f"{p.heading_path}\n{p.text}") for p in passages]
        with self._lock:
            return [float(s) for s in self._model.predict(pairs, show_progress_bar=False)]

    async def rerank(self, query: str, passages: list[Passage], k: int) -> list[Passage]:
        """The k passages the cross-encoder scores highest; its score is kept next to the others."""
        if not passages:
            return []
        scores = await asyncio.to_thread(self.scores, query, passages)
        scored = [
            dataclasses.replace(p, rerank_score=round(s, 4)) for p, s in zip(passages, scores, strict=True)
        ]
        return sorted(scored, key=lambda p: p.rerank_score or 0.0, reverse=True)[:k]


@lru_cache(maxsize=2)
def get_reranker(model_name: str) -> Reranker:
    return Reranker(model_name)
