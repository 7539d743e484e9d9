"""The built-in examples' embeddings and trained heads, kept on disk: every process (server,
worker, CLI) would otherwise spend most of a minute encoding and fitting the same thing again."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from agents.classifiers._heads import Vectors
from knowledge.embeddings import Embedder

T = TypeVar("T")


def cache_dir() -> Path:
    """``$ATENDE_CACHE_DIR``, else the user's cache folder (XDG)."""
    configured = os.environ.get("ATENDE_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "atende"


def cached_encode(embedder: Embedder, texts: list[str]) -> Vectors:
    """The texts' embeddings, computed once per model and set of texts on this machine."""
    digest = hashlib.sha256("\n".join([embedder.model_name, *texts]).encode()).hexdigest()[:24]
    path = cache_dir() / f"example-vectors-{digest}.npy"
    try:
        vectors = np.load(path)
        if vectors.shape == (len(texts), embedder.dimension):
            return np.asarray(vectors, dtype=np.float32)
    except (OSError, ValueError):
        pass
    vectors = embedder.encode(texts, batch_size=128)
    _write(path, lambda handle: np.save(handle, vectors))
    return vectors


def cached_object(kind: str, key: str, build: Callable[[], T]) -> T:
    """``build()``'s result, pickled under a digest of ``key`` (the data it was built from), of the
    classifier code and of scikit-learn's version: a change to any of them builds it afresh.

    Only this process's own earlier results are read back: the folder is the user's own cache.
    """
    import sklearn

    code = "".join(p.read_text() for p in sorted(Path(__file__).parent.glob("*.py")))
    digest = hashlib.sha256(f"{sklearn.__version__}\n{code}\n{key}".encode()).hexdigest()[:24]
    path = cache_dir() / f"{kind}-{digest}.pickle"
    try:
        with path.open("rb") as handle:
            loaded: T = pickle.load(handle)  # noqa: S301 - written by cached_object on this machine
        return loaded
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    built = build()
    _write(path, lambda handle: pickle.dump(built, handle, protocol=pickle.HIGHEST_PROTOCOL))
    return built


def _write(path: Path, dump: Callable[[tempfile._TemporaryFileWrapper[bytes]], None]) -> None:
    """Whole or not at all, even with several processes racing to write the same file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            dump(handle)
        os.replace(handle.name, path)
    except OSError:
        pass  # a read-only home only costs the work again
