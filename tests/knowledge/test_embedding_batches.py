"""Concurrent turns' embeddings are micro-batched: one ``encode`` serves every caller waiting then,
and each caller gets exactly its own vectors back."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from numpy.typing import NDArray

from conversations.services import Services
from knowledge.embeddings import EncodeBatcher


async def test_callers_waiting_together_share_one_encode_and_get_their_own_vectors(
    services: Services,
) -> None:
    embedder = services.embedder
    batches: list[list[str]] = []

    def encode(texts: list[str]) -> NDArray[np.float32]:
        batches.append(texts)
        return embedder.encode(texts)

    batcher = EncodeBatcher(encode)
    asked = [[f"Qual o prazo de entrega para o pedido {n}?", f"Posso trocar o item {n}?"] for n in range(12)]
    got = await asyncio.gather(*(batcher.encode(texts) for texts in asked))

    assert len(batches) == 1 and len(batches[0]) == 24
    for texts, vectors in zip(asked, got, strict=True):
        np.testing.assert_allclose(vectors, embedder.encode(texts), atol=1e-5)


async def test_a_failed_batch_fails_its_callers_and_the_next_batch_runs(services: Services) -> None:
    embedder = services.embedder
    failing = True

    def encode(texts: list[str]) -> NDArray[np.float32]:
        if failing:
            raise RuntimeError("the model broke")
        return embedder.encode(texts)

    batcher = EncodeBatcher(encode)
    outcomes = await asyncio.gather(
        *(batcher.encode([f"texto {n}"]) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    failing = False
    [vector] = await batcher.encode(["de novo"])
    assert vector.shape == (embedder.dimension,)


async def test_the_embedder_batches_what_concurrent_turns_ask(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = services.embedder
    sizes: list[int] = []
    real = embedder.encode

    def counting(texts: list[str], batch_size: int = 64) -> NDArray[np.float32]:
        sizes.append(len(texts))
        return real(texts, batch_size)

    monkeypatch.setattr(embedder, "_batcher", EncodeBatcher(counting))
    vectors = await asyncio.gather(*(embedder.aencode([f"pergunta {n}"]) for n in range(8)))
    assert sizes == [8]
    assert [v.shape for v in vectors] == [(1, embedder.dimension)] * 8
