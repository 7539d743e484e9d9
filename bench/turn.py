"""The agent graph's own time per turn, with model calls (embeddings) measured apart and taken out.

    python bench/turn.py [--turns 200] [--json]

Runs customer messages (answered, handed off, small talk) through the real graph with its
PostgreSQL checkpointer, the tenant's classifiers and policy, and hybrid search over the demo
knowledge base (offline answerer), and reports per turn: the whole time, the time inside the
embedding model, and the difference (the graph's overhead: loading the tenant's settings,
classification heads, search SQL, decisions, the checkpoint), p50 and p95. The checkpointer saves
as production does (``agents.graph.durability``): offline, once when the turn ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from agents.graph import durability
from agents.tenant_context import build_agent_context
from conversations.services import open_services
from core.accounts import create_tenant
from core.settings import Settings
from knowledge.ingest import collect_files, ingest_files
from runtime.demo import DEMO_KB

MESSAGES = [
    "Qual o prazo para devolver um produto?",
    "Vocês parcelam no cartão?",
    "How do I reset my password?",
    "Do you ship plants to Portugal?",
    "quero falar com um atendente",
    "Vocês vendem bicicletas?",
    "oi",
    "minha planta chegou murcha, e agora?",
]


class TimedEmbedder:
    """The real embedder, with the time spent inside it added up."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    async def aencode(self, texts: list[str]) -> Any:
        started = time.perf_counter()
        try:
            return await self._embedder.aencode(texts)
        finally:
            self.seconds += time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    async with open_services(Settings(data_dir=Path(tempfile.mkdtemp(prefix="atende-turn-")))) as services:
        async with services.database.sessionmaker.begin() as session:
            tenant = await create_tenant(session, "bench-turn")
        await ingest_files(
            services.database.sessionmaker, services.embedder, tenant.id, collect_files([DEMO_KB])
        )
        timed = TimedEmbedder(services.embedder)
        totals, models = [], []
        for turn in range(args.turns + 10):
            text = MESSAGES[turn % len(MESSAGES)]
            before = timed.seconds
            started = time.perf_counter()
            async with services.database.sessionmaker.begin() as session:
                context = await build_agent_context(services, session, tenant)
                context.embedder = timed  # type: ignore[assignment]
                await services.graph.ainvoke(
                    {"text": text, "message_id": str(uuid.uuid4()), "usage": None},
                    config={"configurable": {"thread_id": str(uuid.uuid4())}},
                    context=context,
                    durability=durability(context),
                )
            if turn >= 10:  # warm-up turns are not counted
                totals.append((time.perf_counter() - started) * 1000)
                models.append((timed.seconds - before) * 1000)
    overhead = np.array(totals) - np.array(models)
    report = {
        "turns": len(totals),
        "total_ms": {
            "p50": round(float(np.percentile(totals, 50)), 2),
            "p95": round(float(np.percentile(totals, 95)), 2),
        },
        "model_ms": {
            "p50": round(float(np.percentile(models, 50)), 2),
            "p95": round(float(np.percentile(models, 95)), 2),
        },
        "graph_ms": {
            "p50": round(float(np.percentile(overhead, 50)), 2),
            "p95": round(float(np.percentile(overhead, 95)), 2),
        },
    }
    Console().print(
        f"{report['turns']} turns: whole turn p50 {report['total_ms']['p50']} ms / p95 {report['total_ms']['p95']} ms; "
        f"embedding model p50 {report['model_ms']['p50']} / p95 {report['model_ms']['p95']}; "
        f"graph overhead p50 {report['graph_ms']['p50']} / p95 {report['graph_ms']['p95']}"
    )
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
