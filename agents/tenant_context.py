"""What the agent needs to know about a tenant for a turn: its classifier, policy, LLM and search."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agents.classifiers import tenant_classifier
from agents.context import AgentContext
from agents.tenant_settings import tenant_agent_settings
from core.accounts import Tenant
from core.settings import Settings
from knowledge.embeddings import Embedder
from knowledge.passages import Passage
from knowledge.rerank import Reranker
from knowledge.search import search as search_knowledge

SEARCH_K = 5
"""Passages a turn retrieves."""


class AgentResources(Protocol):
    """What building a context takes; the pipeline's ``Services`` has it, and so does anything that
    runs the agent outside a conversation (the copilot, the evals)."""

    settings: Settings

    @property
    def embedder(self) -> Embedder: ...

    @property
    def reranker(self) -> Reranker | None: ...


async def build_agent_context(
    resources: AgentResources,
    session: AsyncSession,
    tenant: Tenant,
    *,
    search_sessions: async_sessionmaker[AsyncSession] | None = None,
) -> AgentContext:
    """The tenant's classifier, policy and LLM, and a search over its knowledge base.

    The search uses ``session``, or with ``search_sessions`` a short session of its own for each
    search: a turn gives those, so it holds no connection while its LLM writes."""
    embedder = resources.embedder
    reranker = resources.reranker

    async def search_in(in_session: AsyncSession, query: str, vector: NDArray[np.float32]) -> list[Passage]:
        return await search_knowledge(
            in_session, embedder, tenant.id, query, SEARCH_K, reranker=reranker, vector=vector
        )

    async def search(query: str, vector: NDArray[np.float32]) -> list[Passage]:
        if search_sessions is None:
            return await search_in(session, query, vector)
        async with search_sessions() as own:
            return await search_in(own, query, vector)

    tenant_settings = await tenant_agent_settings(session, tenant.id, resources.settings)
    policy, llm = tenant_settings.policy, tenant_settings.llm
    return AgentContext(
        search=search,
        embedder=embedder,
        classifier=await tenant_classifier(session, tenant.id, embedder, tenant_settings.classifier),
        policy=policy,
        min_relevance=policy.retrieval_threshold(resources.settings.min_relevance),
        llm=llm.provider if llm else None,
        llm_classifies=bool(llm and llm.classifies),
        company=tenant.name,
    )
