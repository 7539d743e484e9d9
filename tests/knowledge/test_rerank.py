"""With a cross-encoder configured, search returns the candidates in the cross-encoder's order."""

from __future__ import annotations

import pytest

from conversations.services import Services
from knowledge.embeddings import resolve_model_path
from knowledge.rerank import Reranker
from knowledge.search import search
from tests.conftest import MakeTenant


async def test_the_cross_encoder_orders_the_results(services: Services, make_tenant: MakeTenant) -> None:
    # The packaged MiniLM weights under a fresh scoring head: a real cross-encoder, no download.
    reranker = Reranker(resolve_model_path("all-MiniLM-L6-v2"))
    tenant = await make_tenant()
    async with services.database.sessionmaker.begin() as session:
        fused = await search(session, services.embedder, tenant.id, "router red light", k=20)
        reranked = await search(
            session, services.embedder, tenant.id, "router red light", k=3, reranker=reranker
        )
    assert len(reranked) == 3
    scores = [p.rerank_score for p in reranked]
    assert None not in scores and scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    expected = dict(zip((p.chunk_id for p in fused), reranker.scores("router red light", fused), strict=True))
    # The three the cross-encoder scores highest (scored in other batches, so near-ties may swap places).
    top_three = sorted(expected.values(), reverse=True)[:3]
    assert [expected[p.chunk_id] for p in reranked] == pytest.approx(top_three, abs=1e-3)
    assert all(p.fused_score > 0 for p in reranked), "the retrievers' scores stay in the decision record"
