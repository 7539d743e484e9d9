"""A whole eval run: check the suite against the tenant, run the cases a few at a time, keep what finished.

Interrupted (Ctrl-C), the run keeps the cases that finished and says it is incomplete.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray

from agents.llm import LLMProvider
from agents.tenant_context import build_agent_context
from conversations.services import Services
from core.accounts import Tenant
from evals.judge import LLMJudge
from evals.pipeline import EvalPipeline
from evals.results import CaseResult
from evals.suite import ClassificationCase, ConversationCase, LoadedCase, RetrievalCase, SuiteError
from knowledge.reindex import check_dimension
from knowledge.service import list_documents

OFFLINE_JUDGE = "offline: groundedness by sentence embeddings, rubrics skipped"
BATCH = 32
"""Cases whose text is embedded together before they run (embedding one by one is far slower)."""


@dataclass
class RunOutcome:
    results: list[CaseResult]
    incomplete: bool
    settings: dict[str, Any]


async def check_documents(services: Services, tenant: Tenant, cases: Sequence[LoadedCase]) -> None:
    """Every document a case names must be in the tenant's knowledge base, before anything runs."""
    async with services.database.sessionmaker() as session:
        await check_dimension(session, services.embedder)
        known = {document.source for document, _, _ in await list_documents(session, tenant.id, None)}
    for loaded in cases:
        case = loaded.case
        named: list[tuple[str, str]] = []
        if isinstance(case, RetrievalCase):
            named = [(f"gold_documents[{i}]", d) for i, d in enumerate(case.gold_documents)]
        elif isinstance(case, ConversationCase):
            named = [
                (f"turns[{i}].expect.cites", t.expect.cites)
                for i, t in enumerate(case.turns)
                if t.expect.cites
            ]
        for field, document in named:
            if document not in known:
                raise SuiteError(
                    loaded.file,
                    loaded.line,
                    field,
                    f"{document!r} is not a document of tenant {tenant.slug!r} (see `atende kb list`)",
                )


async def run_settings(services: Services, tenant: Tenant) -> tuple[dict[str, Any], LLMProvider | None]:
    """What the run measured, the settings a production turn of this tenant uses; and its LLM."""
    async with services.database.sessionmaker() as session:
        context = await build_agent_context(services, session, tenant)
    settings = services.settings
    described = {
        "embedding_model": settings.embedding_model,
        "reranker_model": settings.reranker_model,
        "min_relevance": context.min_relevance,
        "policy": msgspec.to_builtins(context.policy),
        "llm": f"{context.llm.name}:{context.llm.model}" if context.llm else "offline (extractive)",
        "llm_classifies": context.llm_classifies,
    }
    return described, context.llm


def _text(case: LoadedCase) -> str | None:
    """The text embedded ahead for the cases that need a single vector."""
    if isinstance(case.case, RetrievalCase):
        return case.case.query
    if isinstance(case.case, ClassificationCase):
        return case.case.text
    return None


async def run_cases(
    services: Services,
    tenant: Tenant,
    cases: Sequence[LoadedCase],
    *,
    run_id: str,
    concurrency: int = 2,
    on_result: Callable[[CaseResult], None] | None = None,
    on_start: Callable[[], None] | None = None,
    use_judge: bool = True,
) -> RunOutcome:
    """Run every case (``concurrency`` at a time) in suite order; stop early, keeping results, on Ctrl-C.

    ``on_start`` is called once the suite has been checked, just before the first case runs. With an LLM
    configured (and ``use_judge``) it judges rubrics and groundedness; else rubrics are skipped and
    groundedness is the offline embedding check."""
    await check_documents(services, tenant, cases)
    settings, llm = await run_settings(services, tenant)
    judge = LLMJudge(llm) if llm is not None and use_judge else None
    settings |= {"concurrency": concurrency, "judge": judge.name if judge else OFFLINE_JUDGE}
    pipeline = EvalPipeline(services, tenant, run_id, judge=judge)
    done: dict[int, CaseResult] = {}
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, loaded: LoadedCase, vector: NDArray[np.float32] | None) -> None:
        async with gate:
            result = await pipeline.run(loaded, vector)
        done[index] = result
        if on_result is not None:
            on_result(result)

    incomplete = False
    try:
        if on_start is not None:
            on_start()
        for start in range(0, len(cases), BATCH):
            batch = list(enumerate(cases[start : start + BATCH], start=start))
            texts = [text for _, loaded in batch if (text := _text(loaded)) is not None]
            vectors = dict(zip(texts, await services.embedder.aencode(texts), strict=True)) if texts else {}
            await asyncio.gather(*(one(i, loaded, vectors.get(_text(loaded) or "")) for i, loaded in batch))
    except asyncio.CancelledError:
        incomplete = True
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
    finally:
        with contextlib.suppress(Exception):
            await pipeline.forget_threads()
    if judge is not None:
        settings |= {"judge_tokens": judge.usage.tokens, "judge_cost_usd": round(judge.usage.cost_usd, 6)}
    return RunOutcome([done[i] for i in sorted(done)], incomplete, settings)
